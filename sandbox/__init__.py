"""A loopback imitation of X API v2 and the Facebook Graph API, for tests and benchmarks.

The unmodified tweepy and facebook-sdk clients talk to it with only their base URL changed
(publisher.adapters.redirect.RewriteSession). One server, one port:

- X: /2/tweets (POST, GET ?ids=), /2/tweets/<id> (GET, DELETE), /2/users/me,
  /2/users/<id>/tweets, /2/tweets/search/recent, /1.1/media/upload.json (simple image upload),
  /1.1/media/metadata/create.json (alt text).
  OAuth 1.0a HMAC-SHA1 signatures are verified; Bearer tokens are accepted where X accepts them.
- Graph, under any /vNN.N/: /me, /<page-id>, /<post-id> (GET, DELETE), /<page-id>/feed,
  /posts, /scheduled_posts (GET), /<page-id>/feed (with attached_media[i]={"media_fbid"} of
  unpublished photos) and /photos (POST, `source` up to 4 MB, alt_text_custom),
  /<post-id>/comments,
  /debug_token?input_token=… (data.is_valid, expires_at (0 = never), scopes; the caller's
  access_token is an app token "<app_id>|<secret>" or a working Page token).
- HTML (read-only): /sandbox/, /sandbox/x/<username>[/status/<id>],
  /sandbox/facebook/<page-id>[/posts/<post-id>]. Each post is an element id="post-<id>"; images
  show with their alt text (bytes at /sandbox/media/<media-or-photo-id>), and a tweet's replies
  are nested below it, so a thread reads top down.
- Control API (JSON, loopback callers only):
  POST /sandbox/api/accounts {"platform": "x"|"facebook", "name"} -> 201 credentials
      (the same name on the same platform returns the existing account's credentials);
  GET  /sandbox/api/accounts, GET /sandbox/api/accounts/<key>;
  GET  /sandbox/api/accounts/<key>/posts[?include_deleted=1] -> [post, ...], oldest first,
      each with "media": [{id, mime, width, height, size, alt_text}];
  POST /sandbox/api/accounts/<key>/faults {latency_ms, error_rate, error_status (429/5xx),
      expire_token, token_expires_in_s, drop_response_rate, rate_limit, rate_window_s}
      -> the profile (token_expires_in_s is stored as token_expires_at, UNIX s); the body
      replaces the whole profile ({} clears it); GET returns it;
  GET  /sandbox/api/accounts/<key>/in_flight -> {"in_flight": n}: calls that arrived and wait
      out their latency unanswered;
  GET  /sandbox/api/posts/<id>/metrics -> {age_s, likes, reposts, quotes, impressions,
      bookmarks, replies};
  POST /sandbox/api/posts/<id>/metrics {advance_s | age_s, likes, reposts, quotes,
      impressions, bookmarks} -> the same: ages the post virtually and/or fixes numbers
      (null lets one grow again);
  POST /sandbox/api/reset {"keep_accounts": false};
  GET|POST /sandbox/api/clock {"now": ISO-8601 | null} -> {"now"}: the sandbox's time (rate
      windows, token expiry, post times) moved to where a test fixed Megafon's, or back.
  <key> is the X user id or the Facebook Page id (the account name or X username also work).
- News for the media monitor (sandbox.feeds; in memory): /sandbox/feeds/<name>.xml (RSS 2.0,
  ETag/Last-Modified/304, gzip), article pages /sandbox/news/<slug>, section pages
  /sandbox/news/section/<name>; POST /sandbox/api/feeds/<name>/items {title, text, link?,
  published?} adds an item; GET /sandbox/api/feeds; POST /sandbox/api/demo/social seeds the
  demo's tweets and Facebook comments. Built in: Swedish demo feeds nwt-demo, vf-demo,
  svt-varmland-demo, p4-varmland-demo and the feedless outlet an-demo (sandbox.demo_news).

Credentials: X {"platform","name","username","user_id","consumer_key","consumer_secret",
"access_token": "<user_id>-<random>","access_token_secret","bearer_token"}; Facebook
{"platform","name","page_id","page_access_token"}.

Faults: latency before serving; error_rate of calls answered with error_status (nothing stored);
expire_token, or token_expires_at passed (X 401, Graph 190/463; /debug_token reports the
expiry); drop_response_rate of successful writes (POST/DELETE) stored
and then the connection closed unanswered; rate_limit per rate_window_s (default 900 s) for
POST /2/tweets on X (default 100) or for all of a Page's calls on Graph (default 4800).

Engagement grows with each post's age, deterministically from its id (sandbox.metrics):
public_metrics on X when tweet.fields asks for it; shares, reactions/likes summaries on Graph.
Replies and comments are the real ones stored.
"""

from sandbox.server import SandboxServer
from sandbox.state import SandboxState

__all__ = ["SandboxServer", "SandboxState"]
