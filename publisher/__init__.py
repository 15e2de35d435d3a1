"""Publishing domain: accounts, posts and their deliveries to X and Facebook. No Flask here."""
