"""The sandbox's built-in demo news: fictional Värmland outlets and articles, and a few tweets and
Facebook comments, so the mention log, its filters and the alerts show something out of the box.

Everything here is invented: the outlets carry "(demo)" in their names, and the people are not
real politicians. Ages are hours before the sandbox started; a negative age is an article that
appears that many hours *after* the start (a few minutes), so an alert can be seen arriving.
"""

from __future__ import annotations

# name -> (title, outlet); "an-demo" has no feed, only a section page (a page source).
OUTLETS = {
    "nwt-demo": ("NWT (demo)", "NWT"),
    "vf-demo": ("Värmlands Folkblad (demo)", "VF"),
    "svt-varmland-demo": ("SVT Nyheter Värmland (demo)", "SVT Värmland"),
    "p4-varmland-demo": ("P4 Värmland (demo)", "P4 Värmland"),
    "an-demo": ("Arvika Nyheter (demo)", "Arvika Nyheter"),
}

# (outlet, slug, hours ago, title, paragraphs separated by blank lines)
ARTICLES: tuple[tuple[str, str, float, str, str], ...] = (
    ("nwt-demo", "busslinjer-dras-in-landsbygden", 2.0,
     "Värmlandstrafik vill dra in tolv busslinjer på landsbygden",
     "Värmlandstrafik föreslår att tolv busslinjer i norra och västra Värmland läggs ner från "
     "och med augusti. Bolaget pekar på höga kostnader och få resenärer på turerna.\n\n"
     "– Det här slår hårdast mot dem som inte har bil: äldre, unga och de som jobbar natt, "
     "säger Elin Lindqvist (V), oppositionsråd i Region Värmland.\n\n"
     "Regionrådet Karin Nyström (S) säger att inget är beslutat och att förslaget ska "
     "remitteras till kommunerna innan kollektivtrafiknämnden fattar beslut i juni."),
    ("vf-demo", "gratis-buss-unga", 5.5,
     "Vänsterpartiet vill ha gratis buss för alla under 20 år",
     "Vänsterpartiet i Region Värmland lägger en motion om avgiftsfri kollektivtrafik för "
     "alla under 20 år. Kostnaden beräknas till omkring 40 miljoner kronor om året.\n\n"
     "– Unga ska kunna ta sig till skolan, jobbet och fritidsaktiviteter oavsett var i länet de "
     "bor och vad föräldrarna tjänar, säger Elin Lindqvist (V).\n\n"
     "Moderaterna är kritiska. – Pengarna behövs bättre i vården, säger Per-Olof Eriksson (M)."),
    ("svt-varmland-demo", "tag-karlstad-oslo-forsenat", 9.0,
     "Tågen mellan Karlstad och Oslo försenade igen – pendlare rasar",
     "För tredje veckan i rad har tågtrafiken på Värmlandsbanan drabbats av inställda avgångar. "
     "Pendlare vittnar om timmar av väntan på perrongen i Kil och Arvika.\n\n"
     "Trafikverket hänvisar till ett signalfel som ska åtgärdas under hösten.\n\n"
     "Socialdemokraterna och Vänsterpartiet kräver att regionen ställer krav på "
     "ersättningsbussar."),
    ("p4-varmland-demo", "nattbuss-karlstad", 26.0,
     "Nattbussarna i Karlstad blir kvar – efter protester",
     "Karlstads kommun backar från förslaget att ta bort nattbussarna på helgerna. Över 3 000 "
     "personer skrev under ett upprop.\n\n"
     "– Trygga resor hem är en jämställdhetsfråga, säger Amira Haddad (V), gruppledare i "
     "Karlstads kommunfullmäktige."),
    ("nwt-demo", "akuten-arvika-nattstangd", 3.0,
     "Akuten i Arvika kan hålla stängt på nätterna",
     "Region Värmland utreder att stänga akutmottagningen vid Arvika sjukhus nattetid. Patienter "
     "skulle då hänvisas till Centralsjukhuset i Karlstad, nio mil bort.\n\n"
     "– Det är livsfarligt att låta västra Värmland stå utan akut på natten, säger Johan "
     "Berglund (V), kommunalråd i Arvika.\n\n"
     "Sjukvårdsdirektören säger att bristen på läkare gör det svårt att bemanna dygnet runt."),
    ("an-demo", "namninsamling-sjukhuset", 7.0,
     "Namninsamling för Arvika sjukhus har passerat 10 000",
     "En namninsamling mot neddragningarna på Arvika sjukhus har på en vecka fått över 10 000 "
     "underskrifter. Initiativtagarna ska lämna listorna till regionfullmäktige.\n\n"
     "Vänsterpartiet, Centerpartiet och Sverigedemokraterna har sagt att de stöder kravet på en "
     "akut som är öppen dygnet runt.\n\n"
     "– Vården ska finnas där folk bor, säger Johan Berglund (V)."),
    ("svt-varmland-demo", "barnmorskor-arvika", 30.0,
     "Barnmorskor i Arvika säger upp sig i protest",
     "Fem av elva barnmorskor på förlossningen vid Arvika sjukhus har sagt upp sig. De pekar på "
     "hög arbetsbelastning och låga löner.\n\n"
     "– Det här är ett kvinnoyrke som länge har varit undervärderat, säger Elin Lindqvist (V)."),
    ("an-demo", "vardcentral-charlottenberg", 50.0,
     "Vårdcentralen i Charlottenberg får hyrläkare igen",
     "Efter ett halvår utan fast läkare får vårdcentralen i Charlottenberg hjälp av hyrläkare "
     "under sommaren. Regionen räknar med att kostnaden blir dubbelt så hög."),
    ("vf-demo", "skola-torsby-laggs-ner", 4.0,
     "Byskolan i Östmark kan läggas ner",
     "Torsby kommun föreslår att skolan i Östmark stängs och att eleverna flyttas till Torsby "
     "centralort. Föräldrar oroar sig för långa skolskjutsar.\n\n"
     "– En skola är hjärtat i en by, säger Maria Holm (KD), medan Socialdemokraterna vill "
     "invänta en konsekvensanalys.\n\n"
     "Vänsterpartiet har begärt att beslutet skjuts upp ett år."),
    ("p4-varmland-demo", "lararbrist-kristinehamn", 12.0,
     "Var tredje lärare i Kristinehamn saknar behörighet",
     "Nya siffror visar att 33 procent av lärarna i Kristinehamns grundskolor saknar "
     "lärarlegitimation. Lärarförbundet kräver högre löner och mindre administration."),
    ("nwt-demo", "skolmaten-karlstad", 40.0,
     "Skolmaten i Karlstad ska bli mer vegetarisk",
     "Från hösten serveras vegetarisk lunch två dagar i veckan i Karlstads skolor. "
     "Sverigedemokraterna vill stoppa beslutet, medan Miljöpartiet och Vänsterpartiet vill gå "
     "längre."),
    ("vf-demo", "hyreshojning-karlstadshus", 6.0,
     "Hyrorna i Karlstadshus höjs med sju procent",
     "Det kommunala bostadsbolaget Karlstadshus höjer hyrorna med sju procent från januari, den "
     "största höjningen på trettio år.\n\n"
     "– Allmännyttan ska hålla nere hyrorna, inte driva upp dem. Många pensionärer och "
     "ensamstående mammor har inte råd, säger Amira Haddad (V).\n\n"
     "Bolagets vd hänvisar till höjda räntor och ökade kostnader för uppvärmning."),
    ("svt-varmland-demo", "renovering-kronoparken", 20.0,
     "Hyresgäster på Kronoparken oroas av renovering",
     "Hyresgäster på Kronoparken i Karlstad fruktar att de inte har råd att bo kvar efter en "
     "planerad stambytesrenovering. Hyresgästföreningen kräver att de boende får välja "
     "standard."),
    ("p4-varmland-demo", "bostadsbrist-unga", 60.0,
     "Unga i Värmland står längst i bostadskön",
     "Den genomsnittliga kötiden för en första lägenhet i Karlstad är nu fem år. Flera partier "
     "vill bygga fler hyresrätter med rimliga hyror."),
    ("nwt-demo", "klaralven-vattenkraft", 8.0,
     "Laxen i Klarälven hotas – krav på fiskvägar",
     "Miljöorganisationer kräver att kraftbolagen bygger fiskvägar förbi dammarna i Klarälven för "
     "att rädda den vildlevande laxen.\n\n"
     "– Klimatet och den biologiska mångfalden kan inte vänta, säger Elin Lindqvist (V).\n\n"
     "Kraftbolaget säger att frågan utreds tillsammans med Länsstyrelsen."),
    ("svt-varmland-demo", "vindkraft-hagfors", 15.0,
     "Strid om vindkraftspark utanför Hagfors",
     "Ett bolag vill bygga 30 vindkraftverk i skogarna väster om Hagfors. Kommunfullmäktige ska "
     "pröva frågan i maj, och Moderaterna och Sverigedemokraterna vill säga nej."),
    ("an-demo", "kalhyggen-glaskogen", 33.0,
     "Kalhyggen nära Glaskogens naturreservat upprör",
     "Boende och friluftsorganisationer protesterar mot planerade avverkningar nära Glaskogen. "
     "Miljöpartiet och Vänsterpartiet vill att kommunen köper in skogen."),
    ("vf-demo", "kvinnojouren-stod", 10.0,
     "Kvinnojouren i Karlstad får inte fortsatt stöd",
     "Kvinnojouren i Karlstad förlorar sitt kommunala stöd efter ett beslut i socialnämnden. "
     "Jouren tog förra året emot över 200 kvinnor och barn.\n\n"
     "– Mäns våld mot kvinnor är det största jämställdhetsproblemet vi har. Det här är ett "
     "svek, säger Amira Haddad (V).\n\n"
     "Nämndens ordförande Per-Olof Eriksson (M) säger att verksamheten ska upphandlas i stället."),
    ("p4-varmland-demo", "lonegap-vard", 28.0,
     "Lönegapet i regionen: vårdbiträden tjänar minst",
     "En granskning visar att de lägst avlönade i Region Värmland är kvinnor i vård och omsorg. "
     "Fackförbundet Kommunal kräver en särskild jämställdhetspott i avtalsrörelsen."),
    ("nwt-demo", "feministisk-budget", 48.0,
     "Vänsterpartiet presenterar en feministisk skuggbudget",
     "Vänsterpartiet i Karlstad vill lägga 25 miljoner kronor på heltid som norm i "
     "äldreomsorgen och mer pengar till kvinnojourer."),
    ("svt-varmland-demo", "klotter-moske-karlstad", 4.5,
     "Rasistiskt klotter på moské i Karlstad",
     "Natten till söndagen klottrades rasistiska budskap på moskén i Karlstad. Polisen utreder "
     "händelsen som hets mot folkgrupp.\n\n"
     "– Rasismen måste mötas av hela samhället, säger Amira Haddad (V), som besökte moskén under "
     "söndagen tillsammans med företrädare för Socialdemokraterna och Centerpartiet."),
    ("vf-demo", "integration-sprakcafe", 36.0,
     "Språkcaféet i Säffle riskerar att stänga",
     "Språkcaféet där nyanlända övar svenska med frivilliga förlorar sitt bidrag. "
     "Sverigedemokraterna vill lägga pengarna på annat, medan Vänsterpartiet och Liberalerna "
     "vill rädda verksamheten."),
    ("p4-varmland-demo", "regionbudget-underskott", 1.5,
     "Regionen räknar med underskott på 400 miljoner",
     "Region Värmland räknar med ett underskott på 400 miljoner kronor i år. Styret av "
     "Socialdemokraterna och Centerpartiet föreslår besparingar på vård och kollektivtrafik.\n\n"
     "– Att spara på akuten i Arvika och på bussarna är fel väg. Vi vill höja skatten med 30 "
     "öre i stället, säger Elin Lindqvist (V).\n\n"
     "Moderaterna vill i stället minska administrationen."),
    ("nwt-demo", "karlstad-budget-skatt", 14.0,
     "Karlstad: oenighet om skattehöjning i kommunbudgeten",
     "Kommunstyrelsen i Karlstad är oenig om budgeten för nästa år. S vill höja skatten med 25 "
     "öre, M och KD vill spara, och V vill höja mer för att klara skolan och äldreomsorgen."),
    ("vf-demo", "torsby-budget-aldreomsorg", 44.0,
     "Torsby sparar på äldreomsorgen",
     "Torsby kommun ska spara tolv miljoner kronor på äldreomsorgen. Personalen befarar fler "
     "delade turer."),
    # appear a few minutes after the start: an alert arrives while you look
    ("nwt-demo", "busstopp-klaralvdalen", -0.04,
     "Just nu: inga bussar i Klarälvdalen i morgon",
     "Värmlandstrafik ställer in all busstrafik i Klarälvdalen i morgon på grund av "
     "förarbrist.\n\n– Det visar hur sårbar kollektivtrafiken har blivit, säger Elin Lindqvist "
     "(V)."),
    ("svt-varmland-demo", "akuten-arvika-beslut", -0.1,
     "Beslut: akuten i Arvika stänger nattetid från hösten",
     "Regionstyrelsen har beslutat att akutmottagningen i Arvika ska stänga klockan 22 från och "
     "med oktober. Vänsterpartiet och Centerpartiet reserverade sig mot beslutet."),
    ("p4-varmland-demo", "kvinnojour-protest", -0.2,
     "Manifestation för kvinnojouren på Stora torget",
     "Flera hundra personer samlades på Stora torget i Karlstad för att protestera mot att "
     "kvinnojouren förlorar sitt stöd. Amira Haddad (V) och flera fackliga företrädare talade."),
)

# The people of the demo district (all fictional): name, aliases (one per line), party, title.
PEOPLE = (
    ("Elin Lindqvist", "", "V", "Oppositionsråd, Region Värmland"),
    ("Johan Berglund", "", "V", "Kommunalråd, Arvika"),
    ("Amira Haddad", "Haddad", "V", "Gruppledare, Karlstad"),
)

# Tweets by fictional people, searchable in the sandbox's X (the demo searches "Värmland").
TWEETS = (
    ("Anna i Karlstad", "Tolv busslinjer bort i Värmland? Hur ska min mamma i Ekshärad ta sig "
     "till vårdcentralen nu? #kollektivtrafik"),
    ("Mats Pendlare", "Tredje dagen i rad inställt tåg Kil–Karlstad. Värmlandsbanan är en "
     "skandal."),
    ("Sara Arvika", "Skrev just under för akuten i Arvika. Västra Värmland behöver sin akut "
     "dygnet runt!"),
    ("Leila K", "Klotter på moskén i Karlstad i natt. Värmland ska vara en plats för alla. "
     "#antirasism"),
    ("Klimatvänner Värmland", "Fiskvägar i Klarälven nu! Laxen väntar inte. #Värmland #miljö"),
)
X_SEARCH_ACCOUNT = "Megafon bevakning (demo)"  # the sandbox X account the demo searches with

# A demo Facebook Page with posts, and comments by visitors.
FACEBOOK_PAGE = "Vänsterpartiet Värmland (demo)"
FACEBOOK_POSTS = (
    ("Akuten i Arvika ska vara öppen dygnet runt. Skriv under uppropet!", (
        ("Birgitta Olsson", "Tack för att ni driver det här! Min man fick hjälp på akuten i "
         "Arvika mitt i natten förra året."),
        ("Stefan Nord", "Varför röstade ni inte för Centerpartiets förslag om vården då?"),
    )),
    ("Vi vill ha gratis kollektivtrafik för alla under 20 år i Värmland.", (
        ("Emma 17 år", "Ja! Jag betalar 600 kr i månaden för bussen till gymnasiet."),
        ("Kjell Ek", "Och vem ska betala? Skatten är redan för hög i Värmland."),
    )),
)
