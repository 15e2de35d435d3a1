"""Media monitoring domain: sources, watchlists, mentions and alerts. No Flask here."""
