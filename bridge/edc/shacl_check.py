"""Does an ELM v3 credential follow the EU's own SHACL shapes? Checked offline, in plain words.

The EDC application profile is published as SHACL shapes (EDC-generic-no-cv.ttl, and its
controlled-vocabulary companion EDC-generic-full.ttl). Shapes judge RDF, so the JSON-LD credential
is first turned into RDF with pyld, and then pyshacl checks it. Two things make this safe to run
in a sealed server room:

* nothing is fetched from the network: the JSON-LD document loader knows exactly two context
  URLs (the W3C VC v1 context and the EDC one), reads them from files the operator configured, and
  refuses every other URL with an error naming it;
* a JSON-LD term the contexts do not define would silently vanish from the RDF, so the shapes could
  never see it (a misspelt `creditPoints` would pass). The conversion therefore appends an
  `@vocab` that catches such terms, and every one caught is reported as a problem.

The shapes file is 200 KB of Turtle; it is parsed once per process and reused (see `_load_shapes`).

pyld and pyshacl together cost 60-250 ms per credential. By default (`check="fast"`, EDC_SHACL_CHECK)
the verdict comes from bridge/edc/shacl_fast.py in a few milliseconds, and only a credential that does
not conform (or one that module does not handle) goes through pyld and pyshacl, for the words of its
problems. `check="full"` runs pyld and pyshacl on every credential. tests/elm3/test_shapes_differential.py
shows both give the same verdicts.
"""
from __future__ import annotations

import json
import logging
import os
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping

import pyshacl
import rdflib
from pyld import jsonld
from rdflib.namespace import RDF, SH

SHAPES_FILE = "EDC-generic-no-cv.ttl"
VOCABULARY_SHAPES_FILE = "EDC-generic-full.ttl"  # optional: checked too when it sits beside the other

W3C_VC_CONTEXT_URL = "https://www.w3.org/2018/credentials/v1"
EDC_CONTEXT_URL = "http://data.europa.eu/snb/model/context/edc-ap"
CONTEXT_FILES = {
    W3C_VC_CONTEXT_URL: "credentials-v1.jsonld",
    EDC_CONTEXT_URL: "edc-ap-context.jsonld",
}
# Where a context file is looked for when EDC_JSONLD_CONTEXT_DIR is not set, relative to the shapes
# folder: beside the shapes, then the layout of the EU reference files (edc/v3_shacl, edc/v3_jsonld, w3c).
CONTEXT_SEARCH = (".", "../v3_jsonld", "../../w3c")

UNDEFINED_TERM = "urn:edc-bridge:undefined-term:"
CHECKS = ("fast", "full")  # EDC_SHACL_CHECK: the fast verdict (full words when it fails) or pyshacl always

log = logging.getLogger(__name__)

PREFIXES = {
    "http://data.europa.eu/snb/model/elm/": "elm:",
    "https://www.w3.org/2018/credentials#": "cred:",
    "http://purl.org/dc/terms/": "dc:",
    "http://www.w3.org/2004/02/skos/core#": "skos:",
    "http://xmlns.com/foaf/0.1/": "foaf:",
    "http://www.w3.org/ns/regorg#": "rov:",
    "http://www.w3.org/ns/adms#": "adms:",
    "http://www.w3.org/2001/XMLSchema#": "xsd:",
    "http://www.w3.org/ns/shacl#": "sh:",
}


class ShapesConfigError(RuntimeError):
    """The shapes or the JSON-LD context files are not where the configuration says."""


class ShapesViolation(ValueError):
    """The credential we built does not follow the EDC shapes: a bug, or a description we mapped wrongly."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("the credential does not follow the EU's EDC shapes: " + "; ".join(problems[:5]))


class OfflineLoaderError(RuntimeError):
    """A JSON-LD document asked for a URL we do not serve from local files (nothing is fetched)."""


def _short(term: Any) -> str:
    text = str(term)
    for long, short in PREFIXES.items():
        if text.startswith(long):
            return short + text[len(long):]
    return text


def _find_context_files(shapes_dir: Path, context_dir: Path | None) -> dict[str, Path]:
    folders = [context_dir] if context_dir else [(shapes_dir / rel).resolve() for rel in CONTEXT_SEARCH]
    found: dict[str, Path] = {}
    for url, name in CONTEXT_FILES.items():
        candidates = [folder / name for folder in folders]
        hit = next((p for p in candidates if p.is_file()), None)
        if hit is None:
            raise ShapesConfigError(
                f"the JSON-LD context {url} is needed as a local file named {name}, but it is in none of: "
                + ", ".join(str(c.parent) for c in candidates)
                + " (set EDC_JSONLD_CONTEXT_DIR to the folder holding it)"
            )
        found[url] = hit
    return found


@lru_cache(maxsize=4)
def _load_shapes(files: tuple[Path, ...], stamps: tuple[float, ...]) -> rdflib.Graph:
    """Parse the shapes once per process (keyed on the files' modification times, so an edit is seen)."""
    graph = rdflib.Graph()
    for path in files:
        graph.parse(path, format="turtle")
    return graph


@lru_cache(maxsize=4)
def _fast_parts(files: tuple[Path, ...], stamps: tuple[float, ...], contexts: tuple[tuple[str, Path], ...]):
    """The fast reader and the compiled shapes, once per process (bridge/edc/shacl_fast.py); None when
    the shapes use what that module does not evaluate."""
    from bridge.edc.shacl_fast import CompiledShapes, FastJsonLd, NotHandled

    shapes = ElmShapes(files, dict(contexts))
    try:
        return (FastJsonLd([W3C_VC_CONTEXT_URL, EDC_CONTEXT_URL], shapes.document_loader, UNDEFINED_TERM),
                CompiledShapes(shapes.shapes_graph()))
    except NotHandled as exc:
        log.warning("these shapes are checked by pyshacl on every credential (the fast check does not cover: %s)",
                    exc)
        return None


@lru_cache(maxsize=8)
def _load_context(path: Path, stamp: float) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


@dataclass(frozen=True)
class ElmShapes:
    """The EDC shapes and the two JSON-LD contexts, all from local files."""

    shapes_files: tuple[Path, ...]
    context_files: Mapping[str, Path]
    check: str = "fast"  # see CHECKS

    @classmethod
    def from_dir(cls, shapes_dir: str | Path, context_dir: str | Path | None = None,
                 check: str = "fast") -> "ElmShapes":
        shapes_dir = Path(shapes_dir)
        main = shapes_dir / SHAPES_FILE
        if not main.is_file():
            raise ShapesConfigError(f"the EDC shapes file {SHAPES_FILE} is not in {shapes_dir} (EDC_SHACL_DIR)")
        files = [main]
        if (shapes_dir / VOCABULARY_SHAPES_FILE).is_file():
            files.append(shapes_dir / VOCABULARY_SHAPES_FILE)
        contexts = _find_context_files(shapes_dir, Path(context_dir) if context_dir else None)
        if check not in CHECKS:
            raise ShapesConfigError(f"the shapes check must be one of {', '.join(CHECKS)} (EDC_SHACL_CHECK), not {check!r}")
        return cls(tuple(files), contexts, check)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "ElmShapes | None":
        """From EDC_SHACL_DIR (and EDC_JSONLD_CONTEXT_DIR); None when the shapes are not configured."""
        env = os.environ if env is None else env
        shapes_dir = env.get("EDC_SHACL_DIR")
        if not shapes_dir:
            return None
        return cls.from_dir(shapes_dir, env.get("EDC_JSONLD_CONTEXT_DIR") or None, env.get("EDC_SHACL_CHECK") or "fast")

    # --- the pieces ---------------------------------------------------------------------------

    def shapes_graph(self) -> rdflib.Graph:
        return _load_shapes(self.shapes_files, tuple(p.stat().st_mtime for p in self.shapes_files))

    def document_loader(self, url: str, options: Any = None) -> dict[str, Any]:
        """pyld's loader: the two known contexts from local files, every other URL refused."""
        path = self.context_files.get(url)
        if path is None:
            raise OfflineLoaderError(
                f"the credential refers to {url!r}, which is not one of the JSON-LD contexts available "
                f"offline ({', '.join(sorted(self.context_files))}); nothing is fetched from the network"
            )
        return {"contentType": "application/ld+json", "contextUrl": None, "documentUrl": url,
                "document": _load_context(path, path.stat().st_mtime)}

    def to_rdf(self, doc: Mapping[str, Any]) -> tuple[rdflib.Graph, list[str]]:
        """The credential as an RDF graph, and the terms no context defines (they are left out of it)."""
        probe = dict(doc)
        context = doc.get("@context")
        contexts = list(context) if isinstance(context, list) else ([context] if context is not None else [])
        probe["@context"] = contexts + [{"@vocab": UNDEFINED_TERM}]
        try:
            dataset = jsonld.to_rdf(probe, {"documentLoader": self.document_loader})
        except RecursionError:
            raise
        except Exception as exc:  # noqa: BLE001 - pyld answers malformed input with assorted exception types
            raise OfflineLoaderError(_jsonld_error_words(exc)) from None
        graph = rdflib.Graph()
        undefined: set[str] = set()
        for triples in dataset.values():  # named graphs are checked together with the default graph
            for triple in triples:
                s, p, o = (_term(triple[k]) for k in ("subject", "predicate", "object"))
                if str(p).startswith(UNDEFINED_TERM):
                    undefined.add(str(p)[len(UNDEFINED_TERM):])
                elif p == RDF.type and str(o).startswith(UNDEFINED_TERM):
                    undefined.add(str(o)[len(UNDEFINED_TERM):])
                else:
                    graph.add((s, p, o))
        return graph, sorted(undefined)

    # --- the check ----------------------------------------------------------------------------

    def fast_verdict(self, doc: Mapping[str, Any]) -> bool | None:
        """Whether the credential conforms, from bridge/edc/shacl_fast.py; None when that module does not
        decide this credential (or these shapes): the full check must."""
        from bridge.edc.shacl_fast import NotHandled

        parts = _fast_parts(self.shapes_files, tuple(p.stat().st_mtime for p in self.shapes_files),
                            tuple(sorted(self.context_files.items())))
        if parts is None:
            return None
        reader, compiled = parts
        try:
            triples, undefined = reader.triples(doc)
            return not undefined and compiled.conforms(triples)
        except (NotHandled, RecursionError):
            return None
        except Exception as exc:  # noqa: BLE001 - the full check decides, and says what is wrong
            log.debug("the fast shapes check could not decide (%s); the full check does", type(exc).__name__)
            return None

    def problems(self, doc: Mapping[str, Any]) -> list[str]:
        """Every violation of the shapes, one plain sentence each; empty when the credential conforms."""
        if not isinstance(doc, Mapping):
            return ["the credential is not a JSON object"]
        fast = self.fast_verdict(doc) if self.check == "fast" else None
        if fast is True:
            return []
        found = self._full_problems(doc)
        if fast is False and not found:  # the full check is the authority; this would be a bug to report
            log.warning("the fast shapes check refused a credential the full check accepts (%s)",
                        doc.get("id") if isinstance(doc.get("id"), str) else "no id")
        return found

    def _full_problems(self, doc: Mapping[str, Any]) -> list[str]:
        """pyld and pyshacl: every problem in words."""
        try:
            data, undefined = self.to_rdf(doc)
        except OfflineLoaderError as exc:
            return [str(exc)]
        except RecursionError:
            return ["the credential is nested too deeply to be checked"]
        except ValueError as exc:  # e.g. a language map whose key is not a language tag
            return [f"the credential holds a value that is not valid JSON-LD: {exc}"]
        found = [f"the term '{t}' is not defined by the credential's JSON-LD contexts, so it carries no meaning "
                 "(a misspelt property?)" for t in undefined]
        with _VALIDATE_LOCK:
            conforms, results, _ = pyshacl.validate(
                data, shacl_graph=self.shapes_graph(), inference="none", advanced=False, allow_warnings=True
            )
        if not conforms:
            found.extend(_describe_results(results, self.shapes_graph()))
        return found

    def require(self, doc: Mapping[str, Any]) -> None:
        """Raise ShapesViolation (carrying every problem) unless the credential conforms."""
        problems = self.problems(doc)
        if problems:
            raise ShapesViolation(problems)


def _term(node: Mapping[str, Any]) -> rdflib.term.Node:
    """One pyld RDF term as rdflib's."""
    if node["type"] == "IRI":
        return rdflib.URIRef(node["value"])
    if node["type"] == "blank node":
        return rdflib.BNode(node["value"].removeprefix("_:"))
    if node.get("language"):
        return rdflib.Literal(node["value"], lang=node["language"])
    return rdflib.Literal(node["value"], datatype=rdflib.URIRef(node["datatype"]) if node.get("datatype") else None)


# pyshacl keeps per-run state on the shapes graph's wrapper; one validation at a time per process.
_VALIDATE_LOCK = threading.Lock()


def _jsonld_error_words(exc: BaseException) -> str:
    """The innermost cause of a pyld error, which is where our loader's refusal ends up."""
    seen = exc
    while True:
        cause = getattr(seen, "cause", None) or seen.__cause__
        if cause is None:
            break
        seen = cause
    if isinstance(seen, OfflineLoaderError):
        return str(seen)
    return f"the credential is not valid JSON-LD: {seen}"


MESSAGES = {
    "MinCountConstraintComponent": "is missing (at least {min} required)",
    "MaxCountConstraintComponent": "has too many values (at most {max} allowed)",
    "DatatypeConstraintComponent": "has a value of the wrong type (expected {datatype})",
    "ClassConstraintComponent": "points to something that is not a {class_}",
    "UniqueLangConstraintComponent": "has two texts in the same language",
    "HasValueConstraintComponent": "does not use the required list {value}",
    "NodeKindConstraintComponent": "has a value of the wrong kind (expected {kind})",
    "NodeConstraintComponent": "does not follow the shape {node}",
}


def _describe_results(results: rdflib.Graph, shapes: rdflib.Graph) -> list[str]:
    """Top-level results only; a nested result (sh:detail) is folded into its parent's sentence."""
    nested = set(results.objects(None, SH.detail))
    lines = []
    for result in results.subjects(RDF.type, SH.ValidationResult):
        if result in nested or results.value(result, SH.resultSeverity) not in (None, SH.Violation):
            continue
        lines.append(_sentence(results, shapes, result))
    return sorted(lines)


def _sentence(results: rdflib.Graph, shapes: rdflib.Graph, result: rdflib.term.Node) -> str:
    focus = results.value(result, SH.focusNode)
    path = results.value(result, SH.resultPath)
    component = _short(results.value(result, SH.sourceConstraintComponent) or "").removeprefix("sh:")
    shape = results.value(result, SH.sourceShape)
    value = results.value(result, SH.value)

    def fact(predicate: rdflib.URIRef) -> Any:
        # The report copies blank-node shapes into itself; named shapes are read from the shapes graph.
        return results.value(shape, predicate) or shapes.value(shape, predicate)

    facts = {
        "min": fact(SH.minCount), "max": fact(SH.maxCount), "datatype": _short(fact(SH.datatype)),
        "class_": _short(fact(SH["class"])), "value": _short(fact(SH.hasValue)), "kind": _short(fact(SH.nodeKind)),
        "node": _short(fact(SH.node)).replace("http://data.europa.eu/snb/model/ap/edc-generic-no-cv/", "edc:"),
    }
    template = MESSAGES.get(component)
    words = template.format(**facts) if template else str(results.value(result, SH.resultMessage) or component)
    where = f"{_short(focus)}, {_short(path)}" if path is not None else _short(focus)
    sentence = f"{where}: {words}"
    if value is not None and component not in ("MinCountConstraintComponent",):
        sentence += f" (value {_short(value)})"
    description = fact(SH.description)
    if description:
        sentence += f" — {description}"
    details = [_sentence(results, shapes, d) for d in results.objects(result, SH.detail)]
    if details:
        sentence += " [because " + "; ".join(sorted(details)) + "]"
    return sentence
