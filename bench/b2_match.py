"""B2: watchlist matching throughput on one core, and the ratio to a naive regex loop.

100,000 Swedish-like articles (about 3 KB each, generated deterministically from a vocabulary
of real and made-up Swedish stems with their inflections, Zipf-distributed, with punctuation,
line breaks, quotes, party mentions, names and the watched phrases sprinkled in) are matched
against 5,000 distinct watch terms (words, prefixes and phrases) in 200 watchlists whose queries
use OR-groups, AND, NOT and NEAR, plus the party forms and a few people, with
monitor.matcher.Matcher. Only the matching is timed (folding, scanning, phrases, evaluation,
parties, people and the matched hits), not the generation. One core: no threads, no processes,
and the process is pinned to one CPU where the OS allows.

The naive baseline: one compiled regular expression per term (word boundaries as lookarounds,
prefixes as ``stem[^\\W_]*``, phrase gaps as white space, brackets and quotes), each run over
the same folded text, then the same query evaluation, on a sample of the first 1,000 articles
(``--naive-sample``). Also timed: the same loop with the regular expressions written literal
first (a tuned naive loop, for reference). "Results" are, per article, the matched watchlist ids
and the hits (term, start, end in the original text) of the matched watchlists;
``same_results`` says whether both loops agree with the matcher on every article of the sample.

Rates are articles per second of CPU time of this process (``time.process_time``), which is what
one core delivers even when other work shares the machine; wall-clock rates and the load
average are printed alongside.

    python bench/b2_match.py                      # the full run
    python bench/b2_match.py --articles 5000 --naive-sample 100   # a quick run

Last line: ``B2 articles_per_s=… ratio_vs_naive=… same_results=yes|no``.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import sys
import time
from itertools import accumulate
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from monitor.matcher import PHRASE_GAP_MARKS, Matcher  # noqa: E402
from monitor.normalize import normalize_mapped  # noqa: E402
from monitor.query import Query, Term, parse  # noqa: E402

SEED = 20240917
TERMS = 5000
WATCHLISTS = 200
ARTICLE_CHARS = 3000
LEMMAS = 40_000  # distinct content stems (each with its inflected forms)

def words(text: str) -> list[str]:
    return text.split()


FUNCTION_WORDS = words(
    "och i att det som en på är för med till av den inte har de om ett vi men så kan sig från "
    "var han hon ska vill efter under eller när nu också mer än sina sin där hade blir får mot "
    "alla detta många även bara här både dem kommer enligt mellan utan vara varit blev skulle "
    "då vad hur andra något sedan redan inom genom kring över vid år kronor procent")

# Real Swedish stems with their inflection class: regional news vocabulary.
REAL = {
    "ar": words("buss väg bro skog sjö stad kommun region dag bil plats hamn park gata ort älv "
                "båt förskol kust by"),
    "or": words("skola kyrka klinik fråga linje kvinna flicka människa gata sjuksköterska"),
    "er": words("vårdcentral station politiker tjänst avgift satsning tidning kostnad nämnd "
                "ledamot patient invånare industri fabrik budget"),
    "et": words("tåg hus jobb sjukhus förslag beslut område bygge projekt år barn avtal stöd "
                "landsting parti val möte"),
    "verb": words("satsa stäng öppn kräv föreslå beslut bygg minsk ök sänk höj planer rust"),
    "adj": words("ny stor lång dyr billig viktig svår snabb lokal regional offentlig"),
}
SUFFIXES = {
    "ar": ("", "en", "ens", "ar", "arna", "arnas", "s"),
    "or": ("", "n", "ns", "or", "orna", "ornas"),
    "er": ("", "en", "ens", "er", "erna", "ernas"),
    "et": ("", "et", "ets", "en", "ena", "s"),
    "verb": ("a", "ar", "ade", "at", "as", "ande"),
    "adj": ("", "a", "t", "are", "ast", "aste"),
}
SYLLABLES = words("kar stå mö lä ber sin tor vå gen ström ling het fär sjö bäck dal ås kyr hög "
                  "lund vik näs by berg holm sten fors ö sol ny gård mark flo tjä rå kro ve ul "
                  "hå mo sä fri rös lin tun gär ske bro fjäll ån ek ask al björk")
PLACES = words("Karlstad Arvika Åmål Säffle Kristinehamn Torsby Hagfors Sunne Filipstad Eda "
               "Årjäng Grums Hammarö Kil Munkfors Storfors Forshaga Värmland Klarälven Vänern")
PEOPLE = [(1, ["Anna Lindqvist"]), (2, ["Erik Håkansson", "Håkansson"]),
          (3, ["Maja Öberg"]), (4, ["Jonas Ekström"])]
PARTY_BITS = ("Vänsterpartiet", "(V)", "S-ledaren", "M och KD", "Socialdemokraterna",
              "sverigedemokraterna", "Centerpartiet", "MP", "(S)", "V-politikern",
              "moderaterna", "Liberalerna", "SD:s")
CLOSINGS = (". ", ". ", ". ", "? ", ": ")


class Vocabulary:
    """Lemmas (a stem and its forms) ranked for a Zipf distribution of content words."""

    def __init__(self, rng: random.Random) -> None:
        lemmas: list[tuple[str, tuple[str, ...]]] = []
        for cls, stems in REAL.items():
            for stem in stems:
                lemmas.append((stem, tuple(self._form(stem, s) for s in SUFFIXES[cls])))
        seen = {stem for stem, _ in lemmas}
        classes = list(SUFFIXES)
        while len(lemmas) < LEMMAS:
            stem = "".join(rng.choice(SYLLABLES) for _ in range(rng.choice((2, 2, 3))))
            if stem in seen or len(stem) < 4:
                continue
            seen.add(stem)
            cls = rng.choice(classes)
            lemmas.append((stem, tuple(self._form(stem, s) for s in SUFFIXES[cls])))
        rng.shuffle(lemmas)
        self.lemmas = lemmas
        self.cum = list(accumulate(1.0 / (r + 10) for r in range(len(lemmas))))
        self.function_cum = list(accumulate(1.0 / (r + 1) for r in range(len(FUNCTION_WORDS))))

    @staticmethod
    def _form(stem: str, suffix: str) -> str:
        if stem.endswith("a") and suffix[:1] in ("a", "o"):
            return stem[:-1] + suffix
        return stem + suffix


class Articles:
    def __init__(self, vocab: Vocabulary, phrases: list[str], rng: random.Random) -> None:
        self.vocab = vocab
        self.phrases = phrases
        self.rng = rng

    def words(self, n: int) -> list[str]:
        rng = self.rng
        lemmas = rng.choices(self.vocab.lemmas, cum_weights=self.vocab.cum, k=n)
        out = [rng.choice(forms) for _, forms in lemmas]
        functions = rng.choices(FUNCTION_WORDS, cum_weights=self.vocab.function_cum, k=n)
        for i in range(0, n, 2):  # about half the words are function words
            out[i] = functions[i]
        return out

    def sentence(self) -> str:
        rng = self.rng
        words = self.words(rng.randint(8, 18))
        r = rng.random()
        if r < 0.15:
            words.insert(rng.randrange(len(words)), rng.choice(PLACES))
        elif r < 0.20:
            words.insert(rng.randrange(len(words)), rng.choice(PARTY_BITS))
        elif r < 0.23:
            words.insert(rng.randrange(len(words)), rng.choice(PEOPLE)[1][0])
        elif r < 0.33:
            words.insert(rng.randrange(len(words)), rng.choice(self.phrases))
        if rng.random() < 0.3:
            words[rng.randrange(1, len(words))] += ","
        text = " ".join(words)
        text = text[0].upper() + text[1:]
        if rng.random() < 0.08:
            return f"\u201d{text}\u201d \u2013 säger {rng.choice(PEOPLE)[1][0]}. "
        if rng.random() < 0.05:
            text = text.replace(" ", "\n", 1)  # a line break inside a sentence
        return text + rng.choice(CLOSINGS)

    def article(self) -> str:
        rng = self.rng
        title = " ".join(self.words(rng.randint(5, 9))).capitalize()
        parts = [title, "\n\n"]
        size = len(title)
        paragraph = 0
        while size < ARTICLE_CHARS:
            s = self.sentence()
            parts.append(s)
            size += len(s)
            paragraph += 1
            if paragraph >= rng.randint(3, 6):
                parts.append("\n\n")
                paragraph = 0
        return "".join(parts).strip()


def make_watchlists(vocab: Vocabulary, rng: random.Random) -> tuple[list[str], list[str]]:
    """5,000 distinct terms in 200 query texts, and the phrase pool articles draw from."""
    lemmas = vocab.lemmas[40:]  # the most frequent content words are not watched
    terms: list[str] = []
    seen: set[str] = set()
    phrases: list[str] = []

    def add(term: str) -> None:
        if term not in seen:
            seen.add(term)
            terms.append(term)

    while len(terms) < TERMS:
        r = rng.random()
        stem, forms = rng.choice(lemmas)
        if r < 0.55 or (r < 0.85 and len(stem) < 4):
            add(rng.choice(forms))
        elif r < 0.85:
            add(stem[: max(4, len(stem) - rng.randint(0, 2))] + "*")
        else:
            other = rng.choice(rng.choice(lemmas)[1])
            phrase = (f"{rng.choice(forms)} i {rng.choice(PLACES)}" if rng.random() < 0.5
                      else f"{rng.choice(forms)} {other}")
            phrases.append(phrase)
            add(f'"{phrase}"')
    queries: list[str] = []
    per = TERMS // WATCHLISTS
    for w in range(WATCHLISTS):
        t = terms[w * per:(w + 1) * per]
        mode = w % 4
        if mode == 0:
            q = f"({' OR '.join(t[:12])}) AND ({' OR '.join(t[12:22])}) NOT ({' OR '.join(t[22:])})"
        elif mode == 1:
            q = (f"({' OR '.join(t[:15])}) OR "
                 f"(({' OR '.join(t[15:20])}) NEAR/8 ({' OR '.join(t[20:])}))")
        elif mode == 2:
            q = f"({' OR '.join(t[:20])}) ({' OR '.join(t[20:])})"
        else:
            q = " OR ".join(t)
        queries.append(q)
    return queries, phrases


# --- The naive way ------------------------------------------------------------------------------


GAP = "[\\s" + re.escape("".join(sorted(PHRASE_GAP_MARKS))) + "]+"  # between phrase words


def _naive_body(term: Term) -> str:
    parts = []
    for word in term.words:
        stem = word.rstrip("*")
        body = r"[\W_]".join(re.escape(p) for p in stem.split(" "))
        parts.append(body + (r"[^\W_]*" if word.endswith("*") else ""))
    return GAP.join(parts)


def naive_pattern(term: Term) -> re.Pattern[str]:
    """The obvious regular expression: boundary, the term, boundary."""
    return re.compile(r"(?<![^\W_])" + _naive_body(term) + r"(?![^\W_])")


def tuned_pattern(term: Term) -> re.Pattern[str]:
    """The same, written literal first so that the regex engine can search for the literal."""
    first = re.escape(term.words[0].rstrip("*").split(" ")[0])
    body = _naive_body(term)
    assert body.startswith(first)
    return re.compile(first + r"(?<![^\W_]" + first + ")" + body[len(first):] + r"(?![^\W_])")


_WORDS = re.compile(r"[^\W_]+")


def naive_match(patterns: list[tuple[Term, re.Pattern[str]]], queries: dict[int, Query],
                text: str) -> tuple[list[int], set[tuple[str, int, int]]]:
    norm = normalize_mapped(text)
    low = norm.text
    spans: dict[Term, list[tuple[int, int]]] = {}
    for term, pattern in patterns:
        found = [m.span() for m in pattern.finditer(low)]
        if found:
            spans[term] = found

    def words_between(a: int, b: int) -> int:
        return len(_WORDS.findall(low, a, b))

    matched = sorted(w for w, q in queries.items() if q.evaluate(spans, words_between))
    hits = set()
    for w in matched:
        for term in queries[w].terms:
            for s, e in spans.get(term, ()):
                start, end = norm.to_original(s, e)
                hits.add((term.text, start, end))
    return matched, hits


# --- Running ------------------------------------------------------------------------------------


def pin_to_one_core() -> str:
    try:
        cpu = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpu})
        return f"pinned to CPU {cpu}"
    except (AttributeError, OSError):
        return "not pinned (no sched_setaffinity)"


class Clock:
    """CPU time of this process and wall-clock time, summed over the timed stretches."""

    def __init__(self) -> None:
        self.cpu = 0.0
        self.wall = 0.0

    def __enter__(self) -> Clock:
        self._cpu, self._wall = time.process_time(), time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.cpu += time.process_time() - self._cpu
        self.wall += time.perf_counter() - self._wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--naive-sample", type=int, default=1000)
    parser.add_argument("--chunk", type=int, default=1000)
    args = parser.parse_args()
    sample_size = min(args.naive_sample, args.articles)

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"B2 {pin_to_one_core()}; Python {sys.version.split()[0]}; "
          f"load average at start {load:.1f} on {os.cpu_count()} CPUs")
    rng = random.Random(SEED)
    vocab = Vocabulary(rng)
    query_texts, phrases = make_watchlists(vocab, rng)
    with Clock() as build:
        queries = {i + 1: parse(q) for i, q in enumerate(query_texts)}
        matcher = Matcher.build(queries.items(), PEOPLE)
    all_terms = {t for q in queries.values() for t in q.terms}
    kinds = {k: sum(t.kind == k for t in all_terms) for k in ("word", "prefix", "phrase")}
    print(f"watchlists={len(queries)} terms={len(all_terms)} {kinds} "
          f"near_queries={sum(q.positional for q in queries.values())} "
          f"build_s={build.cpu:.2f}")

    gen = Articles(vocab, phrases, rng)
    sample: list[str] = []
    ours: list[tuple[list[int], set[tuple[str, int, int]]]] = []
    clock = Clock()
    chars = hits = matched = with_party = 0
    chunk_rates: list[float] = []
    done = 0
    while done < args.articles:
        batch = [gen.article() for _ in range(min(args.chunk, args.articles - done))]
        kept = []  # results of the sample's articles, compared with the naive loop below
        before = clock.cpu
        with clock:  # as in ingest: match, take the hits, and let the result go
            for text in batch:
                r = matcher.match(text)
                hits += len(r.hits)  # the hits are part of the work (they are stored)
                matched += len(r.watchlist_ids)
                with_party += bool(r.parties)
                if len(sample) + len(kept) < sample_size:
                    kept.append(r)
        chunk_rates.append(len(batch) / (clock.cpu - before))
        for text, r in zip(batch, kept, strict=False):
            sample.append(text)
            ours.append((r.watchlist_ids, {(h.term, h.start, h.end) for h in r.hits}))
        chars += sum(map(len, batch))
        done += len(batch)
    per_s = done / clock.cpu
    print(f"articles={done} mean_chars={chars / done:.0f} matched_watchlists_per_article="
          f"{matched / done:.2f} hits_per_article={hits / done:.1f} "
          f"with_party={with_party / done:.0%}")
    print(f"matcher: {per_s:.0f} articles/s CPU ({clock.cpu:.2f} s; chunks of {args.chunk}: "
          f"median {statistics.median(chunk_rates):.0f}/s, slowest {min(chunk_rates):.0f}/s), "
          f"{done / clock.wall:.0f} articles/s wall clock, {chars / clock.cpu / 1e6:.1f} MB/s")

    # Per article on the same sample: the matcher again, the naive loop, the tuned loop.
    with Clock() as ours_on_sample:
        for text in sample:
            matcher.match(text).hits  # noqa: B018
    ours_per_s = len(sample) / ours_on_sample.cpu
    ordered = sorted(all_terms, key=lambda t: t.text)
    outcome = {}
    for label, make in (("naive", naive_pattern), ("tuned naive", tuned_pattern)):
        patterns = [(t, make(t)) for t in ordered]
        with Clock() as naive:
            theirs = [naive_match(patterns, queries, text) for text in sample]
        differ = [i for i, (a, b) in enumerate(zip(ours, theirs, strict=True)) if a != b]
        rate = len(sample) / naive.cpu
        outcome[label] = (rate, differ)
        print(f"{label}: {len(sample)} articles, {rate:.1f} articles/s CPU "
              f"({len(sample) / naive.wall:.1f} wall clock); {ours_per_s / rate:.0f}x slower "
              f"than the matcher on the same articles ({ours_per_s:.0f}/s); differing "
              f"articles: {len(differ)}" + (f" (first: {differ[:5]})" if differ else ""))
    rate, differ = outcome["naive"]
    same = not differ and not outcome["tuned naive"][1]
    print(f"B2 articles_per_s={per_s:.0f} ratio_vs_naive={ours_per_s / rate:.0f} "
          f"same_results={'yes' if same else 'no'}")


if __name__ == "__main__":
    main()
