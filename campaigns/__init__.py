"""Campaign leads' domain: campaigns, their messages, roll-out to accounts and the coverage."""
