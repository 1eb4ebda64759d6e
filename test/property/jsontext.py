"""JSON text written exactly as a test asks: the number forms, escapes and white space a
sender may use, which Python's json module does not let a caller choose.

Copyright (c) 2026, the mailstatus developers. PostgreSQL License: see LICENSE.
"""


class RawNumber:
    """A JSON number kept as its text: 1E+2, -0, 0.10, 123456789012345678901234567890."""

    def __init__(self, text):
        self.text = text

    def __repr__(self):
        return "RawNumber(%r)" % self.text

    def __eq__(self, other):
        return isinstance(other, RawNumber) and other.text == self.text

    def __hash__(self):
        return hash(self.text)


class Style:
    """How to write: the spaces around punctuation, and which characters to escape."""

    def __init__(self, space="", escape_non_ascii=False, escape_letters=False, escape_solidus=False):
        self.space = space
        self.escape_non_ascii = escape_non_ascii
        self.escape_letters = escape_letters
        self.escape_solidus = escape_solidus

    def __repr__(self):
        return "Style(%r, %r, %r, %r)" % (self.space, self.escape_non_ascii, self.escape_letters, self.escape_solidus)


COMPACT = Style()
_SHORT_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape_code_point(cp):
    if cp < 0x10000:
        return "\\u%04x" % cp
    cp -= 0x10000
    return "\\u%04x\\u%04x" % (0xD800 + (cp >> 10), 0xDC00 + (cp & 0x3FF))


def write_string(s, style=COMPACT):
    """A JSON string literal of s; a lone surrogate in s (a str can hold one) is written as its escape."""
    out = ['"']
    for ch in s:
        cp = ord(ch)
        if ch in _SHORT_ESCAPES:
            out.append(_SHORT_ESCAPES[ch])
        elif ch == "/" and style.escape_solidus:
            out.append("\\/")
        elif cp < 0x20 or 0xD800 <= cp <= 0xDFFF:
            out.append(_escape_code_point(cp))
        elif cp >= 0x7F and style.escape_non_ascii:
            out.append(_escape_code_point(cp))
        elif style.escape_letters and ch.isalpha() and cp < 0x80:
            out.append(_escape_code_point(cp))
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def write(value, style=COMPACT):
    """JSON text of value: dicts (or lists of key/value pairs, for duplicate keys), lists, strings,
    ints, RawNumber, booleans, None."""
    sp = style.space
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, RawNumber):
        return value.text
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str):
        return write_string(value, style)
    if isinstance(value, dict):
        value = list(value.items())
        return "{" + sp + ("," + sp).join(write_string(k, style) + sp + ":" + sp + write(v, style) for k, v in value) + sp + "}"
    if isinstance(value, Pairs):
        return "{" + sp + ("," + sp).join(write_string(k, style) + sp + ":" + sp + write(v, style) for k, v in value.pairs) + sp + "}"
    if isinstance(value, (list, tuple)):
        return "[" + sp + ("," + sp).join(write(v, style) for v in value) + sp + "]"
    raise TypeError("cannot write %r as JSON" % (value,))


class Pairs:
    """An object written with these key/value pairs in this order, duplicates included."""

    def __init__(self, pairs):
        self.pairs = list(pairs)

    def __repr__(self):
        return "Pairs(%r)" % (self.pairs,)
