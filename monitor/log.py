"""Gone: split into monitor.mention_search, highlight, triage, respond, not_terms, query_trial.

Only web/compose.py still imports these two names from here; its owner moves that import to
monitor.respond, and then this file is deleted.
"""

from monitor.respond import link_response, response_prefill

__all__ = ["link_response", "response_prefill"]
