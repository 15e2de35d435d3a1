"""Swedish words the benchmarks write their made-up news from (one list for B3 and B4)."""

VOCABULARY = """
kommunen regionen förslaget beslutet nämnden fullmäktige budgeten skolan vården bussen tåget
hyran skatten invånarna föräldrarna eleverna personalen läkarna pensionärerna företagen
föreningen politikerna oppositionen majoriteten styret utredningen remissen kostnaden pengarna
miljonerna kronor procent året hösten våren sommaren vintern veckan dagen kvällen morgonen
mötet debatten frågan svaret kritiken protesten uppropet namnlistan demonstrationen torget
centrum landsbygden byn staden länet gränsen älven sjön skogen vägen bron stationen hållplatsen
sjukhuset vårdcentralen förskolan biblioteket simhallen idrottshallen kyrkan museet teatern
vill ska kan måste borde säger menar tycker kräver föreslår beslutar utreder sparar satsar
höjer sänker stänger öppnar bygger river flyttar väntar hoppas oroar glädjer undrar varnar
lovar ny gammal stor liten viktig dyr billig snabb långsam tydlig oklar rimlig orimlig
"""
WORDS = VOCABULARY.split()
