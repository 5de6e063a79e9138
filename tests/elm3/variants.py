"""Credentials that are almost right: generated variants of real ELM v3 credentials, for the
differential test of the fast shapes check against pyshacl (test_shapes_differential.py, and
bench/shapes_differential.py for the long run).

Each variant is a real credential (a pilot course, or the EU's own Annex I sample) with one to three
mutations of the kinds a builder bug or a hand-edited file produces: a property missing, one too
many (or unknown, or repeated), a value of the wrong type or kind, a node nested in the wrong place.
Seeded, so a failure names a variant that can be made again.
"""
from __future__ import annotations

import copy
import dataclasses
import json
import random
from typing import Any, Callable, Iterator

from bridge.edc.elm3_builder import build_elm3
from bridge.edc.status import status_url

from .helpers import COURSES, EU_UNSIGNED, JSONLD_DIR, pilot_credential

EDC_TERMS = sorted(k for k in json.loads((JSONLD_DIR / "edc-ap-context.jsonld").read_text(encoding="utf-8"))
                   ["@context"] if not k.startswith("@") and ":" not in k)
CLASSES = [t for t in EDC_TERMS if t[:1].isupper()]
PROPERTIES = [t for t in EDC_TERMS if t[:1].islower()]


def base_documents() -> list[tuple[str, dict]]:
    """Every pilot course (two learners, with and without a grade; one naming its status resource, as the
    sidecar issues them) and the EU's own sample."""
    docs = []
    for n, course in enumerate(COURSES):
        credential = pilot_credential(course, n)
        with_status = dataclasses.replace(credential, issuance=dataclasses.replace(
            credential.issuance, status_url=status_url("https://edc.example.test", credential.issuance.credential_id)))
        docs.append((f"{course.stem}", build_elm3(with_status)))
        docs.append((f"{course.stem}-graded", build_elm3(pilot_credential(course, n + 1, grade="9/10"))))
    docs.append(("eu-sample", json.loads(EU_UNSIGNED.read_text(encoding="utf-8"))))
    return docs


# --- where things are ------------------------------------------------------------------------------

def _places(doc: Any, path: tuple = ()) -> Iterator[tuple[tuple, Any]]:
    """Every (path, value) in the document below the top."""
    if isinstance(doc, dict):
        for key, value in doc.items():
            if key == "@context":
                continue
            yield path + (key,), value
            yield from _places(value, path + (key,))
    elif isinstance(doc, list):
        for n, value in enumerate(doc):
            yield path + (n,), value
            yield from _places(value, path + (n,))


def _nodes(doc: dict) -> list[tuple[tuple, dict]]:
    """Every node object (a dict with a type or an id), the document itself first."""
    found = [((), doc)]
    found += [(p, v) for p, v in _places(doc) if isinstance(v, dict) and ("type" in v or "id" in v)]
    return found


def _get(doc: Any, path: tuple) -> Any:
    for step in path:
        doc = doc[step]
    return doc


def _set(doc: Any, path: tuple, value: Any) -> None:
    _get(doc, path[:-1])[path[-1]] = value


def _delete(doc: Any, path: tuple) -> None:
    parent = _get(doc, path[:-1])
    if isinstance(parent, list):
        parent.pop(path[-1])
    else:
        del parent[path[-1]]


# --- the mutations ----------------------------------------------------------------------------------

def missing(doc: dict, rng: random.Random) -> str:
    path, _ = rng.choice(list(_places(doc)))
    _delete(doc, path)
    return f"missing {'/'.join(map(str, path))}"


def _random_value(rng: random.Random, doc: dict) -> Any:
    kind = rng.randrange(8)
    if kind == 0:
        return rng.choice(["x", "2026-11-28T10:00:00Z", "P3H", "http://example.org/a", "5", ""])
    if kind == 1:
        return {rng.choice(["en", "lt", "de"]): rng.choice(["a text", "kitas"])}
    if kind == 2:
        return {"id": f"urn:epass:extra:{rng.randrange(1000)}", "type": rng.choice(CLASSES)}
    if kind == 3:
        return rng.choice([0, 1, 7, -3, 100, 101])
    if kind == 4:
        return copy.deepcopy(rng.choice(_nodes(doc))[1])
    if kind == 5:
        return [rng.choice(["a", "b"]), {"en": "two"}]
    if kind == 6:
        return rng.choice([True, 2.5, {"@value": "https://edc.example.test/status/1", "@type": "xsd:anyURI"},
                           {"@value": "https://edc.example.test/status/1", "@type": "xsd:string"},
                           {"@value": "2026-01-01T00:00:00Z", "@type": "xsd:dateTime"}])
    return {"en": ["one", "two"]}  # two texts in one language


def extra(doc: dict, rng: random.Random) -> str:
    path, node = rng.choice(_nodes(doc))
    choice = rng.randrange(4)
    if choice == 0:  # a known property where it may or may not belong
        key = rng.choice(PROPERTIES)
    elif choice == 1:  # a misspelt one
        key = rng.choice(PROPERTIES) + rng.choice(["s", "X", "_"])
    elif choice == 2 and [k for k in node if k not in ("id", "type")]:  # the same property twice
        key = rng.choice([k for k in node if k not in ("id", "type")])
        node[key] = (node[key] if isinstance(node[key], list) else [node[key]]) + [_random_value(rng, doc)]
        return f"repeated {'/'.join(map(str, path + (key,)))}"
    else:
        key = rng.choice(["credentialStatus", "holder", "evidence", "termsOfUse", "expirationDate", "proof"])
    node[key] = _random_value(rng, doc)
    return f"extra {'/'.join(map(str, path + (key,)))}"


def wrongly_typed(doc: dict, rng: random.Random) -> str:
    path, value = rng.choice(list(_places(doc)))
    if path[-1] == "type":
        new: Any = rng.choice(CLASSES + ["Nonsense"])
    elif isinstance(value, str):
        new = rng.choice([42, True, {"en": value}, [value, value], "yesterday", "", {"id": value}, 1.5])
    elif isinstance(value, dict) and value and all(len(k) == 2 for k in value):  # a language map
        new = rng.choice([next(iter(value.values())), {"EN": "x"}, {"e n": "x"}, {"en": 5}, ["x"]])
    elif isinstance(value, dict):
        new = rng.choice([value.get("id", "urn:x"), "plain text", 3, {"en": "x"}, []])
    elif isinstance(value, list):
        new = rng.choice([value[:1], [], value + value, "not a list"])
    else:
        new = rng.choice(["7", None, {"en": "7"}])
    _set(doc, path, new)
    return f"wrong type at {'/'.join(map(str, path))}"


def wrongly_nested(doc: dict, rng: random.Random) -> str:
    nodes = _nodes(doc)[1:]
    if len(nodes) < 2:
        return missing(doc, rng)
    (source, moved), (target_path, target) = rng.sample(nodes, 2)
    if target_path[:len(source)] == source:  # would move a node into itself
        return missing(doc, rng)
    key = source[-1] if isinstance(source[-1], str) else rng.choice(PROPERTIES)
    if rng.randrange(2):
        _delete(doc, source)
    target[key if rng.randrange(2) else rng.choice(PROPERTIES)] = copy.deepcopy(moved)
    return f"moved {'/'.join(map(str, source))} under {'/'.join(map(str, target_path))}"


MUTATIONS: list[Callable[[dict, random.Random], str]] = [missing, extra, wrongly_typed, wrongly_nested]


def variants(count: int, seed: int = 12) -> Iterator[tuple[str, dict]]:
    """`count` variants (plus each base document unchanged first), each named by what was done to it."""
    rng = random.Random(seed)
    bases = base_documents()
    for name, doc in bases:
        yield name, copy.deepcopy(doc)
    for n in range(count):
        name, base = bases[n % len(bases)]
        doc = copy.deepcopy(base)
        done = []
        for _ in range(rng.choice([1, 1, 1, 2, 3])):
            done.append(MUTATIONS[(n + len(done)) % len(MUTATIONS)](doc, rng))
        yield f"{name} #{n}: " + "; ".join(done), doc


def compare(shapes, docs) -> dict[str, Any]:
    """Both verdicts on each document: {"agree", "disagree": [names], "fast_decided", "conforming"}."""
    out = {"agree": 0, "disagree": [], "fast_decided": 0, "conforming": 0, "total": 0}
    for name, doc in docs:
        out["total"] += 1
        fast = shapes.fast_verdict(doc)
        full = not shapes._full_problems(doc)
        out["conforming"] += full
        if fast is None:
            out["agree"] += 1  # not decided fast: the full check answers, so the answer is the same
            continue
        out["fast_decided"] += 1
        if fast == full:
            out["agree"] += 1
        else:
            out["disagree"].append(f"{name} (fast {fast}, pyshacl {full})")
    return out


if __name__ == "__main__":  # python -m tests.elm3.variants: one variant, to look at
    name, doc = list(variants(1))[-1]
    print(name)
    print(json.dumps(doc, indent=1)[:2000])
