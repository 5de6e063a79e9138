"""A fast verdict on an ELM v3 credential against the EU's SHACL shapes, equal to pyshacl's.

pyld (JSON-LD -> RDF) and pyshacl together take ~60-250 ms per credential, more than the whole EDC
XML pipeline. Both are general; our inputs are not. This module does the same two steps for the
common case, in a few milliseconds:

* `FastJsonLd.triples(doc)` turns a credential whose `@context` is exactly the W3C VC v1 and EDC
  contexts into RDF triples, walking the JSON itself but asking pyld for everything that carries
  JSON-LD's meaning: the processed contexts (type- and property-scoped ones too), every IRI
  expansion, and the absolute-IRI rule of its RDF conversion. Whatever it does not handle (a keyword
  in the data, a list, an index or graph container, a float, a nested array, an unusual context)
  makes it step aside (`NotHandled`), and the caller uses pyld and pyshacl as before.
* `CompiledShapes` reads the shapes graph once and evaluates its constraints with plain loops. It
  supports exactly the SHACL core components the shapes use, with pyshacl's semantics copied
  (the datatype check builds the same rdflib literal pyshacl would judge). A shapes file using any
  other component is not compiled (`NotHandled` again): the full check runs.

Only the verdict is computed here. A credential that does not conform is handed to the full check
for the words of its problems, so what people read is unchanged. `tests/elm3/test_shapes_differential.py`
shows the verdicts equal on the pilot courses, the EU's own sample and generated variants (missing,
extra, wrongly typed and wrongly nested properties); `EDC_SHACL_CHECK=full` runs pyshacl on every
credential instead.
"""
from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Any, Callable, Iterable, Mapping

import rdflib
from rdflib import RDF, RDFS, XSD
from rdflib.namespace import SH

XSD_STRING = str(XSD.string)
XSD_INTEGER = str(XSD.integer)
XSD_BOOLEAN = str(XSD.boolean)
XSD_DOUBLE = str(XSD.double)
RDF_LANGSTRING = str(RDF.langString)
RDF_TYPE = str(RDF.type)
RDFS_SUBCLASSOF = str(RDFS.subClassOf)


class NotHandled(Exception):
    """The input (or the shapes) is outside what this module decides; use the full check."""


@dataclass(frozen=True)
class BNode:
    label: str


@dataclass(frozen=True)
class Lit:
    lexical: str
    datatype: str | None  # None only for language-tagged strings (rdf:langString)
    language: str | None = None


Term = Any  # str (an IRI) | BNode | Lit


# --- JSON-LD -> triples -------------------------------------------------------------------------


class FastJsonLd:
    """Credential JSON -> triples, for documents whose @context is exactly `contexts`."""

    def __init__(self, contexts: list[str], document_loader: Callable, undefined_prefix: str):
        from pyld import jsonld
        from pyld.context_resolver import ContextResolver

        self._jsonld = jsonld
        self.contexts = list(contexts)
        self.undefined = undefined_prefix
        self.proc = jsonld.JsonLdProcessor()
        self.options = {"documentLoader": document_loader, "base": "", "processingMode": "json-ld-1.1",
                        "isFrame": False, "keepFreeFloatingNodes": False, "extractAllScripts": False,
                        "contextResolver": ContextResolver({}, document_loader)}
        initial = self.proc._get_initial_context(self.options)
        self.base = self.proc.process_context(initial, self.contexts + [{"@vocab": undefined_prefix}], self.options)
        if "@language" in self.base or "@direction" in self.base:
            raise NotHandled("a default language or direction in the contexts")
        self._contexts: dict[tuple, dict] = {}
        self._iris: dict[tuple, Any] = {}
        self._absolutes: dict[Any, bool] = {}
        self._lock = threading.Lock()  # the memo tables are keyed by the contexts' identities

    # pyld's own pieces, remembered (the same few contexts and strings come back all the time)

    def _scoped(self, active: dict, local: Any, kind: str) -> dict:
        key = (id(active), kind, repr(local))
        found = self._contexts.get(key)
        if found is None:
            if kind == "type":
                found = self.proc._process_context(active, local, self.options, propagate=False)
            else:
                found = self.proc._process_context(active, local, self.options, propagate=True,
                                                   override_protected=True)
            self._contexts[key] = found
            self._contexts[(id(found), "keep")] = active  # keeps `active` alive, so its id stays unique
        return found

    def _iri(self, active: dict, value: str, vocab: bool) -> Any:
        """pyld's IRI expansion (vocab: of a term or type; else of an id, against the document base '')."""
        key = (id(active), value, vocab)
        found = self._iris.get(key, self)
        if found is self:
            if len(self._iris) > 100_000:  # ids of many credentials: start again rather than grow
                self._iris.clear()
            found = self._iris[key] = self.proc._expand_iri(active, value, vocab=vocab, base="")
        return found

    @staticmethod
    def _mapping(active: dict, term: str) -> dict | None:
        return active["mappings"].get(term)

    def _absolute(self, iri: Any) -> bool:
        found = self._absolutes.get(iri)
        if found is None:
            found = self._absolutes[iri] = bool(self._jsonld._is_absolute_iri(iri))
        return found

    # the walk

    def triples(self, doc: Mapping[str, Any]) -> tuple[set[tuple[Term, str, Term]], set[str]]:
        """(triples, undefined terms) of `doc`; NotHandled when it is not one this walk knows."""
        if not isinstance(doc, dict) or doc.get("@context") != self.contexts:
            raise NotHandled("the @context is not exactly the two known contexts")
        walk = _Walk(self)
        body = {k: v for k, v in doc.items() if k != "@context"}
        with self._lock:
            try:
                walk.node(body, self.base, top=True)
            except ValueError as exc:  # a language tag rdflib refuses, ...: the full check says it in words
                raise NotHandled(str(exc)) from None
        return walk.triples, walk.undefined


class _Walk:
    def __init__(self, fast: FastJsonLd):
        self.f = fast
        self.triples: set[tuple[Term, str, Term]] = set()
        self.undefined: set[str] = set()
        self._blank = 0
        self._depth = 0

    def _new_blank(self) -> BNode:
        self._blank += 1
        return BNode(f"f{self._blank}")

    def _add(self, subject: Term, predicate: str, obj: Term | None) -> None:
        """One triple, under pyld's RDF rules: relative IRIs are left out (as are undefined terms,
        which are noted: the full check reports each one)."""
        f = self.f
        if obj is None or (isinstance(subject, str) and not f._absolute(subject)) or not f._absolute(predicate):
            return
        if isinstance(obj, str) and not f._absolute(obj):
            return
        if predicate.startswith(f.undefined):
            self.undefined.add(predicate[len(f.undefined):])
        elif predicate == RDF_TYPE and isinstance(obj, str) and obj.startswith(f.undefined):
            self.undefined.add(obj[len(f.undefined):])
        else:
            self.triples.add((subject, predicate, obj))

    def node(self, element: dict, active: dict, top: bool = False) -> Term | None:
        self._depth += 1
        if self._depth > 200:
            raise NotHandled("nested too deeply")
        try:
            return self._node(element, active, top)
        finally:
            self._depth -= 1

    def _node(self, element: dict, active: dict, top: bool) -> Term | None:
        f = self.f
        keys = sorted(element)
        if any(not isinstance(k, str) or k.startswith("@") for k in keys):
            raise NotHandled("a JSON-LD keyword in the data")
        type_scoped = active
        type_keys = [k for k in keys if f._iri(active, k, True) == "@type"]
        types: list[str] = []
        for key in type_keys:
            values = element[key] if isinstance(element[key], list) else [element[key]]
            if not all(isinstance(t, str) for t in values):
                raise NotHandled("a type that is not a string")
            types.extend(values)
        for type_ in sorted(types):
            mapping = f._mapping(type_scoped, type_)
            scoped = mapping.get("@context") if mapping else None
            if scoped is not None and scoped is not False:
                active = f._scoped(active, scoped, "type")
        id_keys = [k for k in keys if f._iri(active, k, True) == "@id"]
        if len(id_keys) > 1:
            raise NotHandled("two keys naming the node")
        if id_keys:
            value = element[id_keys[0]]
            if not isinstance(value, str):
                raise NotHandled("an id that is not a string")
            subject: Term = f._iri(active, value, False)
            if isinstance(subject, str) and subject.startswith("_:"):
                subject = BNode("d" + subject[2:])
            elif not isinstance(subject, str):
                raise NotHandled("an id that expands to nothing")
        else:
            subject = self._new_blank()
        for type_ in types:
            iri = f._iri(type_scoped, type_, True)
            if not isinstance(iri, str):
                raise NotHandled("a type that expands to nothing")
            self._add(subject, RDF_TYPE, BNode("d" + iri[2:]) if iri.startswith("_:") else iri)
        for key in keys:
            if key in type_keys or key in id_keys:
                continue
            prop = f._iri(active, key, True)
            if prop is None or not (f._absolute(prop) or str(prop).startswith("@")):
                continue  # dropped by JSON-LD (pyld drops it the same way, value and all)
            if str(prop).startswith("@"):
                raise NotHandled("a term aliasing a keyword")
            self._property(subject, key, prop, element[key], active)
        return subject

    def _property(self, subject: Term, key: str, prop: str, value: Any, active: dict) -> None:
        f = self.f
        mapping = f._mapping(active, key) or {}
        if mapping.get("reverse") or mapping.get("@type") == "@json":
            raise NotHandled("a reverse or JSON-typed term")
        container = mapping.get("@container") or []
        container = container if isinstance(container, list) else [container]
        if any(c not in ("@set", "@language") for c in container):
            raise NotHandled("an index, id, type, graph or list container")
        term_ctx = active
        if mapping.get("@context") is not None:
            term_ctx = f._scoped(active, mapping["@context"], "property")
        if "@language" in container and isinstance(value, dict):
            self._language_map(subject, prop, value, term_ctx)
            return
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, list):
                raise NotHandled("an array inside an array")
            if item is None:
                continue
            if isinstance(item, dict) and "@value" in item:
                self._add(subject, prop, self._value_object(item, term_ctx, mapping))
            elif isinstance(item, dict):
                self._add(subject, prop, self._nested(item, key, term_ctx))
            else:
                self._add(subject, prop, self._scalar(item, key, term_ctx))

    def _value_object(self, element: dict, term_ctx: dict, mapping: dict) -> Term:
        """{"@value": text, "@type": datatype}: a typed literal, its type expanded as pyld does (in the
        term's context). Anything richer (a language, a number, a scoped term) is left to pyld."""
        if set(element) != {"@value", "@type"} or mapping.get("@context") is not None:
            raise NotHandled("a value object other than a typed text")
        value, type_ = element["@value"], element["@type"]
        if not isinstance(value, str) or not isinstance(type_, str):
            raise NotHandled("a value object whose value or type is not a text")
        datatype = self.f._iri(term_ctx, type_, True)
        if not isinstance(datatype, str) or not self.f._absolute(datatype) or datatype.startswith("_:"):
            raise NotHandled("a value object whose type is not an IRI")
        return Lit(value, datatype)

    def _nested(self, element: dict, key: str, term_ctx: dict) -> Term | None:
        f = self.f
        child = term_ctx
        first = next(iter(element), None)
        reference = len(element) == 1 and isinstance(first, str) and f._iri(term_ctx, first, True) == "@id"
        if not reference and term_ctx.get("previousContext"):
            child = term_ctx["previousContext"]
        mapping = f._mapping(term_ctx, key) or {}
        if mapping.get("@context") is not None:
            child = f._scoped(child, mapping["@context"], "property")
        return self.node(element, child)

    def _scalar(self, value: Any, key: str, term_ctx: dict) -> Term | None:
        f = self.f
        mapping = f._mapping(term_ctx, key) or {}
        type_ = mapping.get("@type")
        if type_ in ("@id", "@vocab"):
            if not isinstance(value, str):
                raise NotHandled("a number where a link is expected")
            iri = f._iri(term_ctx, value, type_ == "@vocab")
            if not isinstance(iri, str) or not f._absolute(iri):
                return None
            return BNode("d" + iri[2:]) if iri.startswith("_:") else iri
        datatype = type_ if type_ not in (None, "@none") else None
        return self._literal(value, datatype)

    def _literal(self, value: Any, datatype: str | None) -> Lit:
        """pyld's _object_to_rdf for a value object, branch for branch."""
        j = self.f._jsonld
        if isinstance(value, bool):
            return Lit("true" if value else "false", datatype or XSD_BOOLEAN)
        if j._is_double(value):
            return Lit(j._canonicalize_double(value), datatype or XSD_DOUBLE)
        if datatype == XSD_DOUBLE and isinstance(value, (int, str)):
            try:
                return Lit(j._canonicalize_double(float(value)), XSD_DOUBLE)
            except (ValueError, TypeError):
                return Lit(str(value), XSD_DOUBLE)
        if isinstance(value, int) and abs(value) >= 1e21:
            return Lit(j._canonicalize_double(value), datatype or XSD_DOUBLE)
        if isinstance(value, int):
            return Lit(str(int(value)), datatype or XSD_INTEGER)
        if isinstance(value, str):
            return Lit(value, datatype or XSD_STRING)
        raise NotHandled("a value of an unknown JSON type")

    def _language_map(self, subject: Term, prop: str, value: dict, term_ctx: dict) -> None:
        f = self.f
        for key, texts in sorted(value.items()):
            expanded = f._iri(term_ctx, key, True)
            for text in texts if isinstance(texts, list) else [texts]:
                if text is None:
                    continue
                if not isinstance(text, str):
                    raise NotHandled("a language map value that is not a text")
                if expanded == "@none":
                    self._add(subject, prop, Lit(text, XSD_STRING))
                else:
                    self._add(subject, prop, Lit(text, None, _language(key.lower())))


@lru_cache(maxsize=256)
def _language(tag: str) -> str:
    """The tag as rdflib keeps it; ValueError (as the full check's rdflib raises) when it is not one."""
    return str(rdflib.Literal("", lang=tag).language)


# --- the shapes, compiled -------------------------------------------------------------------------


SH_NS = str(SH)
# SHACL core parameters this module does not evaluate: a shapes file using one is not compiled.
NOT_COMPILED = {"closed", "ignoredProperties", "equals", "disjoint", "lessThan", "lessThanOrEquals",
                "qualifiedValueShape", "qualifiedMinCount", "qualifiedMaxCount", "qualifiedValueShapesDisjoint",
                "sparql", "rule", "target", "targetWhere"}
NODE_KINDS = {"IRI": (True, False, False), "BlankNode": (False, True, False), "Literal": (False, False, True),
              "BlankNodeOrIRI": (True, True, False), "BlankNodeOrLiteral": (False, True, True),
              "IRIOrLiteral": (True, False, True)}


def _own(term: rdflib.term.Node) -> Term:
    """A term of the shapes graph in this module's form."""
    if isinstance(term, rdflib.URIRef):
        return str(term)
    if isinstance(term, rdflib.BNode):
        return BNode("s" + str(term))
    if isinstance(term, rdflib.Literal):
        return Lit(str(term), str(term.datatype) if term.datatype else (None if term.language else XSD_STRING),
                   term.language)
    raise NotHandled(f"an unexpected term in the shapes: {term!r}")


@lru_cache(maxsize=4096)
def _rdflib_literal(lit: Lit) -> rdflib.Literal:
    if lit.language is not None:
        return rdflib.Literal(lit.lexical, lang=lit.language)
    return rdflib.Literal(lit.lexical, datatype=rdflib.URIRef(lit.datatype) if lit.datatype else None)


_RDFS_LITERAL, _RDFS_DATATYPE, _XSD_STRING, _RDF_LANGSTRING = RDFS.Literal, RDFS.Datatype, XSD.string, RDF.langString


@lru_cache(maxsize=65536)
def _datatype_ok(value: Term, rule: rdflib.URIRef) -> bool:
    """pyshacl's DatatypeConstraintComponent, on the literal rdflib makes of `value`."""
    if not isinstance(value, Lit):
        return False
    lit = _rdflib_literal(value)
    datatype, lang = lit.datatype, lit.language
    if datatype == rule:
        if getattr(lit, "ill_typed", None) is True:
            return False
        return _actual(lit, rule)
    if rule == _RDFS_LITERAL:
        return True
    if rule == _RDFS_DATATYPE and datatype:
        return True
    if datatype is None and lang is None and rule == _XSD_STRING:
        return _actual(lit, rule)
    if rule == _RDF_LANGSTRING and lang:
        return _actual(lit, rule)
    return False


def _python_types() -> dict:
    import datetime as dt

    return {XSD.string: (str, bytes), RDF.langString: (str, bytes), XSD.integer: int, XSD.float: float,
            XSD.decimal: Decimal, XSD.boolean: bool, XSD.date: dt.date, XSD.time: dt.time, XSD.dateTime: dt.datetime}


PYTHON_TYPES = _python_types()  # pyshacl's _assert_actual_datatype: the value rdflib made must be one of these


def _actual(lit: rdflib.Literal, rule: rdflib.URIRef) -> bool:
    wanted = PYTHON_TYPES.get(rule)
    return True if wanted is None else isinstance(lit.value, wanted)


class _Shape:
    __slots__ = ("name", "path", "deactivated", "violation", "checks", "properties", "targets")

    def __init__(self, name: Term):
        self.name = name
        self.path: str | None = None
        self.deactivated = False
        self.violation = True
        self.checks: list[Callable[["_Data", list[Term]], bool]] = []  # each on the value nodes
        self.properties: list["_Shape"] = []
        self.targets: list[tuple[str, Term]] = []


class _Data:
    """The data graph, indexed for the checks."""

    def __init__(self, triples: Iterable[tuple[Term, str, Term]]):
        self.out: dict[Term, dict[str, list[Term]]] = {}
        self.types: dict[Term, set[str]] = {}
        self.instances: dict[str, set[Term]] = {}
        self.subjects_of: dict[str, set[Term]] = {}
        self.objects_of: dict[str, set[Term]] = {}
        for s, p, o in triples:
            if p == RDFS_SUBCLASSOF:
                raise NotHandled("the credential says which class is a subclass of which")
            values = self.out.setdefault(s, {}).setdefault(p, [])
            if o not in values:
                values.append(o)
            self.subjects_of.setdefault(p, set()).add(s)
            self.objects_of.setdefault(p, set()).add(o)
            if p == RDF_TYPE and isinstance(o, str):
                self.types.setdefault(s, set()).add(o)
                self.instances.setdefault(o, set()).add(s)
        self.memo: dict[tuple[int, Term], bool] = {}
        self.busy: set[tuple[int, Term]] = set()

    def values(self, focus: Term, path: str) -> list[Term]:
        return self.out.get(focus, {}).get(path, [])


class CompiledShapes:
    """The shapes graph as Python checks; `conforms(triples)` is pyshacl's `conforms`."""

    def __init__(self, graph: rdflib.Graph):
        self.graph = graph
        self._shapes: dict[Term, _Shape] = {}
        roots = set(graph.subjects(RDF.type, SH.NodeShape)) | set(graph.subjects(RDF.type, SH.PropertyShape))
        for predicate in (SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf):
            roots |= set(graph.subjects(predicate, None))
        for s, p, o in graph:
            if isinstance(p, rdflib.URIRef) and str(p).startswith(SH_NS):
                name = str(p)[len(SH_NS):]
                if name in NOT_COMPILED:
                    raise NotHandled(f"the shapes use sh:{name}")
        for cls in set(graph.subjects(RDF.type, RDFS.Class)) | set(graph.subjects(RDF.type, rdflib.OWL.Class)):
            if cls in roots or (cls, RDF.type, SH.NodeShape) in graph:
                raise NotHandled("implicit class targets")
        self.targeted = [self._shape(r) for r in sorted(roots, key=str)]
        self.targeted = [s for s in self.targeted if s.targets]

    def _list(self, head: rdflib.term.Node) -> list[rdflib.term.Node]:
        return list(rdflib.collection.Collection(self.graph, head))

    def _shape(self, node: rdflib.term.Node) -> _Shape:
        key = _own(node)
        found = self._shapes.get(key)
        if found is not None:
            return found
        g = self.graph
        shape = _Shape(key)
        self._shapes[key] = shape  # before its parts, so a shape may refer to itself
        path = g.value(node, SH.path)
        if path is not None:
            if not isinstance(path, rdflib.URIRef):
                raise NotHandled("a path that is not a single property")
            shape.path = str(path)
        shape.deactivated = any(o.toPython() is True for o in g.objects(node, SH.deactivated)
                                if isinstance(o, rdflib.Literal))
        severity = g.value(node, SH.severity)
        shape.violation = severity in (None, SH.Violation)
        for kind, predicate in (("class", SH.targetClass), ("node", SH.targetNode),
                                ("subjects", SH.targetSubjectsOf), ("objects", SH.targetObjectsOf)):
            shape.targets += [(kind, _own(o)) for o in g.objects(node, predicate)]
        self._constraints(shape, node)
        return shape

    def _constraints(self, shape: _Shape, node: rdflib.term.Node) -> None:
        g = self.graph
        add = shape.checks.append
        for o in g.objects(node, SH["class"]):
            add(_class_check(str(o)))
        for o in g.objects(node, SH.datatype):
            add(lambda data, values, rule=o: all(_datatype_ok(v, rule) for v in values))
        for o in g.objects(node, SH.nodeKind):
            iri, blank, literal = NODE_KINDS[str(o)[len(SH_NS):]]
            add(lambda data, values, i=iri, b=blank, lit=literal: all(
                (isinstance(v, str) and i) or (isinstance(v, BNode) and b) or (isinstance(v, Lit) and lit)
                for v in values))
        for o in g.objects(node, SH.minCount):
            add(lambda data, values, n=int(o): len(values) >= n)
        for o in g.objects(node, SH.maxCount):
            add(lambda data, values, n=int(o): len(values) <= n)
        for predicate, test in ((SH.minInclusive, lambda v, r: r <= v), (SH.maxInclusive, lambda v, r: v <= r),
                                (SH.minExclusive, lambda v, r: r < v), (SH.maxExclusive, lambda v, r: v < r)):
            for o in g.objects(node, predicate):
                add(lambda data, values, rule=o, t=test: all(_compare(v, rule, t) for v in values))
        for o in g.objects(node, SH.uniqueLang):
            if isinstance(o, rdflib.Literal) and o.toPython() is True:
                add(_unique_lang)
        for o in g.objects(node, SH.hasValue):
            add(lambda data, values, want=_own(o): want in values)
        for o in g.objects(node, SH["in"]):
            allowed = {_own(x) for x in self._list(o)}
            add(lambda data, values, a=allowed: all(v in a for v in values))
        for o in g.objects(node, SH.minLength):
            add(lambda data, values, n=int(o): all(not isinstance(v, BNode) and len(_text(v)) >= n for v in values))
        for o in g.objects(node, SH.maxLength):
            add(lambda data, values, n=int(o): all(not isinstance(v, BNode) and len(_text(v)) <= n for v in values))
        for o in g.objects(node, SH.pattern):
            flags = g.value(node, SH.flags)
            regex = re.compile(str(o), _flags(str(flags)) if flags is not None else 0)
            add(lambda data, values, r=regex: all(not isinstance(v, BNode) and r.search(_text(v)) for v in values))
        for o in g.objects(node, SH.languageIn):
            add(_language_in([str(x) for x in self._list(o)]))
        for o in g.objects(node, SH.node):
            add(self._node_check([self._shape(o)], need=1))
        for o in g.objects(node, SH["or"]):
            add(self._node_check([self._shape(x) for x in self._list(o)], need=1))
        for o in g.objects(node, SH["and"]):
            members = [self._shape(x) for x in self._list(o)]
            add(self._node_check(members, need=len(members)))
        for o in g.objects(node, SH["xone"]):
            add(self._node_check([self._shape(x) for x in self._list(o)], need=1, exactly=True))
        for o in g.objects(node, SH["not"]):
            add(self._node_check([self._shape(o)], need=0, exactly=True))
        shape.properties = [self._shape(o) for o in g.objects(node, SH.property)]

    def _node_check(self, members: list[_Shape], need: int, exactly: bool = False):
        def check(data: _Data, values: list[Term]) -> bool:
            for value in values:
                passed = sum(1 for m in members if self._conforms_as_node(m, data, value))
                if (passed != need) if exactly else (passed < need):
                    return False
            return True
        return check

    def _conforms_as_node(self, shape: _Shape, data: _Data, focus: Term) -> bool:
        """Does `focus` conform to `shape` (its targets ignored), as sh:node/sh:or/... ask?"""
        key = (id(shape), focus)
        if key in data.memo:
            return data.memo[key]
        if key in data.busy:
            raise NotHandled("shapes recursing on a cycle in the data")
        data.busy.add(key)
        try:
            result = self._focus_ok(shape, data, focus, nested=True)
        finally:
            data.busy.discard(key)
        data.memo[key] = result
        return result

    def _focus_ok(self, shape: _Shape, data: _Data, focus: Term, nested: bool) -> bool:
        """No result for `focus`. At the top, a shape whose severity is not Violation does not count
        (pyshacl's allow_warnings); inside sh:node, sh:or, ... every result does."""
        if shape.deactivated:
            return True
        counts = nested or shape.violation
        values = data.values(focus, shape.path) if shape.path is not None else [focus]
        if counts and not all(check(data, values) for check in shape.checks):
            return False
        return all(self._focus_ok(prop, data, value, nested) for prop in shape.properties for value in values)

    def _focus_nodes(self, shape: _Shape, data: _Data) -> set[Term]:
        found: set[Term] = set()
        for kind, what in shape.targets:
            if kind == "class":
                found |= data.instances.get(what, set())
            elif kind == "node":
                found.add(what)
            elif kind == "subjects":
                found |= data.subjects_of.get(what, set())
            else:
                found |= data.objects_of.get(what, set())
        return found

    def conforms(self, triples: Iterable[tuple[Term, str, Term]]) -> bool:
        data = _Data(triples)
        for shape in self.targeted:
            if shape.deactivated:
                continue
            for focus in self._focus_nodes(shape, data):
                if not self._focus_ok(shape, data, focus, nested=False):
                    return False
        return True


def _class_check(cls: str):
    def check(data: _Data, values: list[Term]) -> bool:
        return all(not isinstance(v, Lit) and cls in data.types.get(v, ()) for v in values)
    return check


def _unique_lang(data: _Data, values: list[Term]) -> bool:
    seen: set[str] = set()
    for v in values:
        if isinstance(v, Lit) and v.language:
            low = v.language.lower()
            if low in seen:
                return False
            seen.add(low)
    return True


def _compare(value: Term, rule: rdflib.Literal, test: Callable[[Any, Any], bool]) -> bool:
    if not isinstance(value, Lit):
        return False
    try:
        return bool(test(_rdflib_literal(value), rule))
    except TypeError:
        return False


def _text(value: Term) -> str:
    return value.lexical if isinstance(value, Lit) else str(value)


def _flags(text: str) -> int:
    return sum({"i": re.I, "m": re.M, "s": re.S, "x": re.X}.get(c, 0) for c in text)


def _language_in(tags: list[str]):
    wanted = [t.lower() for t in tags]

    def check(data: _Data, values: list[Term]) -> bool:
        for v in values:
            if not isinstance(v, Lit) or not v.language:
                return False
            lang = v.language.lower()
            if not any(lang == t or lang.startswith(t + "-") for t in wanted):
                return False
        return True
    return check
