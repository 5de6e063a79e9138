"""Mutations of the unsigned properties of a sealed credential, XAdES or JAdES.

Unsigned properties (time-stamps, certificate values, revocation values, archive time-stamps) are
outside the seal's signature: anyone can change them and the signature still holds, so they are
what an attacker, a broken archive or a careless tool would change. Each mutation picks one value
or one element there and breaks it the way real inputs break: truncated, wrong ASN.1 tags or
lengths, CRL and OCSP swapped, a certificate where a time-stamp belongs, huge values, deep nesting,
text that is not base64, elements removed, duplicated or moved. `mutate(seed, rng)` stacks one to
three of them; everything is driven by `rng`, so an input is reproduced from its number.
"""
from __future__ import annotations

import base64
import copy
import json
import random
from typing import Callable

from lxml import etree

XADES = "http://uri.etsi.org/01903/v1.3.2#"
XADES141 = "http://uri.etsi.org/01903/v1.4.1#"
DS = "http://www.w3.org/2000/09/xmldsig#"
MAX_TLVS = 4000
MAX_INPUT = 6 * 1024 * 1024  # above the sidecar's upload limit (4 MB), so that limit is crossed too


# --- DER ----------------------------------------------------------------------------------------


def tlvs(der: bytes) -> list[tuple[int, int, int, bool]]:
    """(start, header length, content length, constructed) of every TLV reachable in `der`."""
    found: list[tuple[int, int, int, bool]] = []
    stack = [(0, len(der))]
    while stack and len(found) < MAX_TLVS:
        pos, end = stack.pop()
        while pos < end and len(found) < MAX_TLVS:
            start = pos
            if pos + 2 > end:
                break
            tag = der[pos]
            pos += 1
            if tag & 0x1F == 0x1F:  # high tag number: skip its continuation bytes
                while pos < end and der[pos] & 0x80:
                    pos += 1
                pos += 1
            if pos >= end:
                break
            first = der[pos]
            pos += 1
            if first < 0x80:
                length = first
            else:
                count = first & 0x7F
                if count == 0 or count > 4 or pos + count > end:
                    break
                length = int.from_bytes(der[pos:pos + count], "big")
                pos += count
            if pos + length > end:
                break
            constructed = bool(tag & 0x20)
            found.append((start, pos - start, length, constructed))
            if constructed:
                stack.append((pos, pos + length))
            pos += length
    return found


def _header(tag: int, length: int) -> bytes:
    if length < 0x80:
        return bytes([tag, length])
    size = (length.bit_length() + 7) // 8
    return bytes([tag, 0x80 | size]) + length.to_bytes(size, "big")


def _pick_tlv(der: bytes, rng: random.Random):
    found = tlvs(der)
    return rng.choice(found) if found else None


def truncate(der: bytes, rng: random.Random) -> bytes:
    return der[:rng.randrange(0, max(1, len(der)))]


def flip_byte(der: bytes, rng: random.Random) -> bytes:
    if not der:
        return b"\x00"
    i = rng.randrange(len(der))
    return der[:i] + bytes([der[i] ^ (1 << rng.randrange(8))]) + der[i + 1:]


def wrong_tag(der: bytes, rng: random.Random) -> bytes:
    """Give one TLV another tag (an INTEGER becomes a SET, a SEQUENCE a UTF8String, ...)."""
    tlv = _pick_tlv(der, rng)
    if tlv is None:
        return flip_byte(der, rng)
    start = tlv[0]
    tag = rng.choice([0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x0A, 0x0C, 0x13, 0x17, 0x18, 0x30, 0x31, 0xA0, 0xA3,
                      0x80, 0x1F, 0xFF])
    return der[:start] + bytes([tag]) + der[start + 1:]


def wrong_length(der: bytes, rng: random.Random) -> bytes:
    """Make one TLV claim a length other than its own (shorter, longer, or absurd)."""
    tlv = _pick_tlv(der, rng)
    if tlv is None:
        return truncate(der, rng)
    start, header, length, _ = tlv
    claimed = rng.choice([0, max(0, length - 1), length + 1, length * 2 + 7, 0x7FFFFFFF])
    head = _header(der[start], claimed) if claimed != 0x7FFFFFFF else bytes([der[start], 0x84, 0x7F, 0xFF, 0xFF, 0xFF])
    return der[:start] + head + der[start + header:]


def huge_value(der: bytes, rng: random.Random) -> bytes:
    """Replace one primitive TLV's content with a huge one (an enormous INTEGER, a 1 MB OCTET STRING)."""
    primitives = [t for t in tlvs(der) if not t[3]]
    if not primitives:
        return der + bytes(rng.randrange(1, 1 << 20))
    start, header, length, _ = rng.choice(primitives)
    size = rng.choice([1 << 10, 1 << 14, 1 << 20])
    content = b"\x7f" + rng.randbytes(size - 1)
    return der[:start] + _header(der[start], size) + content + der[start + header + length:]


def deep_nesting(der: bytes, rng: random.Random) -> bytes:
    """Thousands of nested SEQUENCEs in place of one TLV (a parser that recurses must not fall over)."""
    depth = rng.choice([100, 1000, 20000])
    inner = b"\x05\x00"
    for _ in range(depth):
        inner = _header(0x30, len(inner)) + inner
    tlv = _pick_tlv(der, rng)
    if tlv is None:
        return inner
    start, header, length, _ = tlv
    return der[:start] + inner + der[start + header + length:]


def random_bytes(der: bytes, rng: random.Random) -> bytes:
    return rng.randbytes(rng.choice([0, 1, 16, 300, len(der)]))


def pem_armour(der: bytes, rng: random.Random) -> bytes:
    label = rng.choice(["X509 CRL", "CERTIFICATE", "PKCS7", "garbage"])
    body = base64.encodebytes(der).decode("ascii")
    return f"-----BEGIN {label}-----\n{body}-----END {label}-----\n".encode("ascii")


DER_MUTATIONS: list[Callable[[bytes, random.Random], bytes]] = [
    truncate, flip_byte, wrong_tag, wrong_tag, wrong_length, wrong_length, huge_value, deep_nesting, random_bytes,
    pem_armour,
]


def mutate_der(der: bytes, rng: random.Random, others: list[bytes]) -> bytes:
    """One DER mutation, or (sometimes) another value of the same document in this one's place."""
    if others and rng.random() < 0.15:
        return rng.choice(others)  # a certificate where a time-stamp belongs, a CRL as an OCSP response...
    return rng.choice(DER_MUTATIONS)(der, rng)


def mutate_text(text: str, rng: random.Random) -> str:
    """Base64 text that is not quite base64."""
    choice = rng.randrange(5)
    if choice == 0:
        return ""
    if choice == 1:
        return text[:-1] + "!"
    if choice == 2:
        return text + "=" * rng.randrange(1, 4)
    if choice == 3:
        return " \n\t".join(text[i:i + 7] for i in range(0, len(text), 7))
    return base64.b64encode(rng.randbytes(rng.choice([1 << 12, 1 << 21]))).decode("ascii")


def _b64decode(text) -> bytes:
    """Lenient: an earlier mutation may already have made the value something else than base64."""
    try:
        return base64.b64decode("".join(text.split()))
    except (ValueError, AttributeError):
        return b""


def _other_values(texts: list, rng: random.Random, most: int = 8) -> list[bytes]:
    """A few of the document's other values (decoded), to put one where another belongs; values made
    huge by an earlier mutation are left out (decoding hundreds of copies would cost gigabytes)."""
    small = [t for t in texts if isinstance(t, str) and len(t) < 1 << 16]
    return [_b64decode(t) for t in rng.sample(small, min(most, len(small)))]


# --- XAdES ----------------------------------------------------------------------------------------


def _unsigned(root: etree._Element) -> etree._Element | None:
    return root.find(f".//{{{XADES}}}UnsignedSignatureProperties")


def _xades_values(props: etree._Element) -> list[etree._Element]:
    return [e for e in props.iter() if isinstance(e.tag, str) and etree.QName(e).localname.startswith("Encapsulated")]


def _xades_value(props, rng: random.Random) -> None:
    values = _xades_values(props)
    if not values:
        return
    node = rng.choice(values)
    if rng.random() < 0.2:
        node.text = mutate_text(node.text or "", rng)
        return
    others = _other_values([v.text or "" for v in values if v is not node], rng)
    node.text = base64.b64encode(mutate_der(_b64decode(node.text or ""), rng, others)).decode("ascii")


def _xades_structure(props, rng: random.Random) -> None:
    children = [e for e in props.iter() if e is not props and isinstance(e.tag, str)]
    if not children:
        return
    node = rng.choice(children)
    parent = node.getparent()
    choice = rng.randrange(8)
    if choice == 0:
        parent.remove(node)
    elif choice == 1:
        copy = etree.tostring(node)
        for _ in range(min(rng.choice([1, 5, 60]), MAX_INPUT // 2 // (len(copy) + 1))):
            parent.append(etree.fromstring(copy))
    elif choice == 2:  # CRLs into OCSPValues and back, or the whole container renamed
        swap = {"CRLValues": "OCSPValues", "OCSPValues": "CRLValues", "EncapsulatedCRLValue": "EncapsulatedOCSPValue",
                "EncapsulatedOCSPValue": "EncapsulatedCRLValue", "CertificateValues": "RevocationValues",
                "SignatureTimeStamp": "ArchiveTimeStamp", "ArchiveTimeStamp": "SignatureTimeStamp"}
        name = etree.QName(node)
        node.tag = f"{{{name.namespace}}}{swap.get(name.localname, 'Unknown')}"
    elif choice == 3:
        node.set("Algorithm", rng.choice(["", "http://example.invalid/c14n", "http://www.w3.org/2006/12/xml-c14n11"]))
    elif choice == 4:
        node.text = rng.choice(["", "\u0000x", "A" * 5000, "<no>"]).replace("\u0000", "")
    elif choice == 5:  # nested elements, deeper than a credential ever is
        inner = node
        for _ in range(rng.choice([10, 200])):
            inner = etree.SubElement(inner, node.tag)
    elif choice == 6:
        parent.insert(0, etree.Element(f"{{{rng.choice([XADES, XADES141, DS])}}}{rng.choice(['Unknown', 'CertificateValues', 'RevocationValues', 'SignatureTimeStamp', 'TimeStampValidationData'])}"))
    else:
        others = [c for c in children if c.getparent() is parent and c is not node]
        if others:  # reorder: what follows a time-stamp now precedes it
            other = rng.choice(others)
            i, j = parent.index(node), parent.index(other)
            parent.insert(j, node)
            parent.insert(i, other)


def mutate_xades(data: bytes, rng: random.Random, steps: int) -> bytes:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)
    root = etree.fromstring(data, parser)
    props = _unsigned(root)
    if props is None:
        return data
    for _ in range(steps):
        (_xades_value if rng.random() < 0.65 else _xades_structure)(props, rng)
    return etree.tostring(root.getroottree(), xml_declaration=True, encoding="UTF-8")


# --- JAdES ----------------------------------------------------------------------------------------


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _vals(component) -> list[dict]:
    """Every {"val": ...} object anywhere in a component."""
    out, stack = [], [component]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if isinstance(item.get("val"), str):
                out.append(item)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return out


def _jades_value(components: list, rng: random.Random) -> None:
    vals = [v for c in components for v in _vals(c)]
    if not vals:
        return
    target = rng.choice(vals)
    if rng.random() < 0.2:
        target["val"] = mutate_text(target["val"], rng)
        return
    others = _other_values([v["val"] for v in {id(v): v for v in vals}.values() if v is not target], rng)
    der = _b64decode(target["val"])
    target["val"] = base64.b64encode(mutate_der(der, rng, others)).decode("ascii")


def _jades_structure(components: list, rng: random.Random) -> None:
    if not components:
        components.append({"sigTst": {"tstTokens": []}})
        return
    i = rng.randrange(len(components))
    component = components[i]
    choice = rng.randrange(8)
    if choice == 0:
        del components[i]
    elif choice == 1:
        size = len(json.dumps(component)) + 1  # real copies: a later mutation of one must not grow them all
        components.extend(copy.deepcopy(component) for _ in range(min(rng.choice([1, 5, 300]), MAX_INPUT // 2 // size)))
    elif choice == 2 and isinstance(component, dict):  # crlVals <-> ocspVals, sigTst <-> arcTst
        swap = {"crlVals": "ocspVals", "ocspVals": "crlVals", "sigTst": "arcTst", "arcTst": "sigTst", "xVals": "rVals",
                "rVals": "xVals"}
        for container in [component, *[v for v in component.values() if isinstance(v, dict)]]:
            for key in list(container):
                if key in swap:
                    container[swap[key]] = container.pop(key)
                    break
    elif choice == 3:
        components[i] = rng.choice([None, 1, "text", [], [{}], {"sigTst": None}, {"sigTst": {"tstTokens": {}}},
                                    {"xVals": [{"x509Cert": None}]}, {"rVals": {"crlVals": "AAAA"}},
                                    {"arcTst": {"tstTokens": [{"val": 7}]}}])
    elif choice == 4:  # a JSON value nested far deeper than any credential
        depth = rng.choice([50, 5000, 100000])
        components[i] = {"sigTst": json.loads("[" * min(depth, 900) + "]" * min(depth, 900))} if depth < 1000 \
            else "[" * depth
    elif choice == 5 and isinstance(component, dict):
        for value in component.values():
            if isinstance(value, dict) and isinstance(value.get("tstTokens"), list):
                size = len(json.dumps(value["tstTokens"])) + 1
                times = min(rng.choice([0, 2, 200]), MAX_INPUT // 2 // size)
                value["tstTokens"] = [copy.deepcopy(t) for _ in range(times) for t in value["tstTokens"]]
    elif choice == 6:
        components.insert(rng.randrange(len(components) + 1),
                          rng.choice([{"tstVD": {"certVals": []}}, {"unknown": 1}, {"sigPSt": "x"}]))
    else:
        j = rng.randrange(len(components))
        components[i], components[j] = components[j], components[i]


def mutate_jades(data: bytes, rng: random.Random, steps: int) -> bytes:
    outer = json.loads(data)
    signature = outer["signatures"][0] if "signatures" in outer else outer
    entries = signature.get("header", {}).get("etsiU", [])
    encoded = [isinstance(e, str) for e in entries]
    components = [json.loads(_b64url_decode(e)) if isinstance(e, str) else e for e in entries]
    for _ in range(steps):
        (_jades_value if rng.random() < 0.65 else _jades_structure)(components, rng)
    rendered, size = [], 0
    for n, component in enumerate(components):
        if size > MAX_INPUT:  # duplicated components share one dict: a later mutation grew them all
            break
        as_text = isinstance(component, str) and component.startswith("[")
        if as_text:  # an entry that decodes to deeply nested JSON
            rendered.append(_b64url(component.encode()))
        elif (encoded[n] if n < len(encoded) else True) and rng.random() < 0.9:
            rendered.append(_b64url(json.dumps(component).encode()))
        else:
            rendered.append(component)
        size += len(rendered[-1]) if isinstance(rendered[-1], str) else len(json.dumps(rendered[-1]))
    signature.setdefault("header", {})["etsiU"] = rendered
    return json.dumps(outer).encode()


def mutate(seed: bytes, rng: random.Random) -> bytes:
    """One to three mutations of the unsigned properties of `seed` (XAdES or JAdES, told by its first byte).

    Stacked mutations that would pass MAX_INPUT are cut back to the first one that fits.
    """
    steps = rng.choice([1, 1, 2, 3])
    mutated = mutate_xades if seed.lstrip()[:1] == b"<" else mutate_jades
    for n in range(steps, 0, -1):
        data = mutated(seed, random.Random(rng.random()) if n < steps else rng, n)
        if len(data) <= MAX_INPUT:
            return data
    return seed[:len(seed) // 2]


def replace_value_everywhere(data: bytes, old: bytes, new: bytes) -> bytes:
    """`data` with every carried value `old` (DER) replaced by `new`: base64 in XAdES, inside the
    base64url etsiU entries of JAdES."""
    if data.lstrip()[:1] == b"<":
        return data.replace(base64.b64encode(old), base64.b64encode(new))
    outer = json.loads(data)
    signature = outer["signatures"][0]
    entries = signature["header"]["etsiU"]
    for i, entry in enumerate(entries):
        if isinstance(entry, str):
            text = _b64url_decode(entry).decode("utf-8").replace(base64.b64encode(old).decode(), base64.b64encode(new).decode())
            entries[i] = _b64url(text.encode("utf-8"))
    return json.dumps(outer).encode()
