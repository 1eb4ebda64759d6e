#!/usr/bin/env python3
"""Generates an update script of an unreleased version from its schema parts.

    tools/generate_update.py OLD_INSTALL NEW_INSTALL UPDATE_DIR FROM TO > mailstatus--FROM--TO.sql

OLD_INSTALL is the frozen install script of the released version FROM; NEW_INSTALL the install
script of TO, concatenated from sql/schema/*.sql; UPDATE_DIR holds the only hand-written parts:
prelude.sql (run first: ALTER TABLE, DROP of what changes shape) and postlude.sql (run last: data
repairs). Between them comes every statement of NEW_INSTALL that FROM lacks:

- a function, procedure or aggregate whose definition changed: CREATE OR REPLACE (it is a member
  already); a new one, or one the prelude dropped: plain CREATE;
- a view likewise (CREATE OR REPLACE VIEW can only add columns: drop it in the prelude otherwise);
- any other statement (table, type, index, operator, cast, comment, grant, revoke, catalog call)
  whose text FROM lacks, or that names an object the prelude dropped: as written.

A table or type whose definition changed must be dealt with in the prelude: dropped there, or
altered and named on a line `-- altered: TABLE @extschema@.name`. A table the prelude renames
(`ALTER TABLE @extschema@.old RENAME TO new`) exists under its new name, whose CREATE is not
written (and which must be named altered: its text differs); its old name is gone. Every function,
aggregate, view, table and type of FROM that TO lacks must be dropped (or renamed) by the prelude. Otherwise nothing is written
and the error names the objects. Statements are compared without comments and with whitespace
collapsed, so a comment edited in a part changes no update.
"""
import re
import sys

WORD = re.compile(r'[A-Za-z_][A-Za-z_0-9$]*')
DOLLAR = re.compile(r'\$([A-Za-z_][A-Za-z_0-9]*)?\$')


def quoted_end(text, i):
    """Where the quoted text starting at text[i] ends ('...', "...", $tag$...$tag$, doubled
    quotes inside), or None when text[i] starts no quote."""
    c = text[i]
    if c == "'" or c == '"':
        j = i + 1
        while True:
            j = text.index(c, j)
            if not text.startswith(c * 2, j):
                return j + 1
            j += 2
    m = DOLLAR.match(text, i) if c == '$' else None
    if m and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == '_')):
        return text.index(m.group(0), i + len(m.group(0))) + len(m.group(0))
    return None


def split_statements(text):
    """Splits SQL text into statements, each with the comments before it; psql's rules for
    quotes, dollar quotes, comments and BEGIN ATOMIC ... END bodies."""
    statements, start, i, n = [], 0, 0, len(text)
    depth = 0              # BEGIN/CASE ... END nesting inside a routine's SQL-standard body
    while i < n:
        c = text[i]
        if text.startswith('--', i):
            i = text.find('\n', i)
            i = n if i < 0 else i + 1
        elif text.startswith('/*', i):
            i = text.find('*/', i + 2) + 2
        elif (end := quoted_end(text, i)) is not None:
            i = end
        elif c.isalpha() or c == '_':
            m = WORD.match(text, i)
            word = m.group(0).upper()
            if word in ('BEGIN', 'CASE', 'END') and is_routine(text[start:i]):
                depth += 1 if word != 'END' else -1
            i = m.end()
        elif c == '\\' and not strip_leading_comments(text[start:i]).strip():
            i = text.find('\n', i)      # a psql meta-command: the rest of its line
            i = n if i < 0 else i
            statements.append(text[start:i])
            start = i
        elif c == ';' and depth == 0:
            statements.append(text[start:i + 1])
            start = i + 1
            i += 1
        else:
            i += 1
    if text[start:].strip():
        statements.append(text[start:])
    return statements


def strip_comments(statement):
    """The statement without its comments, whitespace collapsed (quoted text kept)."""
    out, i, n = [], 0, len(statement)
    while i < n:
        c = statement[i]
        if statement.startswith('--', i):
            i = statement.find('\n', i)
            i = n if i < 0 else i
        elif (end := quoted_end(statement, i)) is not None:
            out.append(statement[i:end])
            i = end
        else:
            out.append(c)
            i += 1
    return ' '.join(''.join(out).split())


ROUTINE = re.compile(r'^\s*CREATE\s+(?:OR\s+REPLACE\s+)?(FUNCTION|PROCEDURE)\b', re.I)


def is_routine(statement_so_far):
    """Whether a statement (as far as read) defines a function or procedure."""
    return bool(ROUTINE.match(strip_leading_comments(statement_so_far)))


def attached(statement):
    """The statement with only the comment lines directly above it (a section banner or a
    comment of an earlier, unchanged object is left behind)."""
    lead = strip_leading_comments(statement)
    comments = statement[:len(statement) - len(lead)].rstrip('\n').split('\n\n')[-1].strip('\n')
    return (comments + '\n' if comments else '') + lead


def strip_leading_comments(statement):
    """The statement from its first non-comment line on."""
    lines = statement.split('\n')
    while lines and (not lines[0].strip() or lines[0].lstrip().startswith('--')):
        lines.pop(0)
    return '\n'.join(lines)


TYPE_ALIASES = {'timestamptz': 'timestamp with time zone', 'int': 'integer', 'int4': 'integer',
                'int8': 'bigint', 'int2': 'smallint', 'bool': 'boolean', 'float8': 'double precision',
                'float4': 'real', 'varchar': 'character varying'}
MULTIWORD_TYPES = ('double precision', 'timestamp with time zone', 'timestamp without time zone',
                   'time with time zone', 'time without time zone', 'character varying', 'bit varying')
ARG_MODES = ('in', 'out', 'inout', 'variadic')


def split_top_level(text, sep=','):
    """Splits text at sep outside parentheses and quotes."""
    parts, depth, current, i = [], 0, [], 0
    while i < len(text):
        c = text[i]
        if c in '(':
            depth += 1
        elif c == ')':
            depth -= 1
        elif c == "'":
            j = text.index("'", i + 1)
            current.append(text[i:j + 1])
            i = j + 1
            continue
        if c == sep and depth == 0:
            parts.append(''.join(current))
            current = []
        else:
            current.append(c)
        i += 1
    if ''.join(current).strip():
        parts.append(''.join(current))
    return parts


def argument_types(arguments):
    """The input argument types of a routine's argument list (names, defaults, OUT arguments
    left out), normalized: the identity PostgreSQL gives a routine."""
    types = []
    for argument in split_top_level(arguments):
        argument = re.split(r'\s+DEFAULT\s+|\s*=\s*', argument.strip(), maxsplit=1, flags=re.I)[0]
        words = argument.split()
        mode = 'in'
        if words and words[0].lower() in ARG_MODES:
            mode = words.pop(0).lower()
        if mode == 'out' or not words:
            continue
        text = ' '.join(words)
        if len(words) > 1 and not any(text.lower().startswith(t) for t in MULTIWORD_TYPES):
            text = ' '.join(words[1:])
        text = text.lower().replace('"', '')
        types.append(TYPE_ALIASES.get(text, text))
    return ','.join(types)


def parenthesized(text, start):
    """The text inside the parentheses opening at text[start]."""
    depth = 0
    for i in range(start, len(text)):
        if text[i] == '(':
            depth += 1
        elif text[i] == ')':
            depth -= 1
            if depth == 0:
                return text[start + 1:i]
    raise ValueError('unbalanced parentheses: ' + text[:80])


NAME = r'(@extschema@\.[A-Za-z_0-9]+|[A-Za-z_][A-Za-z_0-9]*\.[A-Za-z_0-9]+)'
CREATE = re.compile(r'CREATE\s+(?:OR\s+REPLACE\s+)?(FUNCTION|PROCEDURE|AGGREGATE|VIEW|TABLE|TYPE)\s+' + NAME, re.I)
DROP = re.compile(r'DROP\s+(FUNCTION|PROCEDURE|AGGREGATE|VIEW|TABLE|TYPE)\s+(?:IF\s+EXISTS\s+)?' + NAME, re.I)


def object_key(kind, name, text, end):
    """The identity of a created or dropped object: kind, name and, for routines, argument types."""
    kind = kind.upper()
    if kind in ('FUNCTION', 'PROCEDURE', 'AGGREGATE'):
        paren = text.find('(', end)
        return (kind, name, argument_types(parenthesized(text, paren)))
    return (kind, name, '')


def created_object(statement):
    """The key of the object a CREATE statement makes, or None."""
    text = strip_comments(statement)
    m = CREATE.match(text)
    return object_key(m.group(1), m.group(2), text, m.end()) if m else None


def dropped_objects(prelude):
    """The keys of the objects the prelude drops."""
    keys = set()
    for statement in split_statements(prelude):
        text = strip_comments(statement)
        m = DROP.match(text)
        if m:
            keys.add(object_key(m.group(1), m.group(2), text, m.end()))
    return keys


RENAME = re.compile(r'ALTER\s+TABLE\s+(?:IF\s+EXISTS\s+)?' + NAME + r'\s+RENAME\s+TO\s+([A-Za-z_][A-Za-z_0-9]*)\s*;?$', re.I)


def renamed_tables(prelude):
    """The tables the prelude renames, as a map of old key to new key (same schema)."""
    renamed = {}
    for statement in split_statements(prelude):
        m = RENAME.match(strip_comments(statement))
        if m:
            old = m.group(1)
            renamed[('TABLE', old, '')] = ('TABLE', old.rsplit('.', 1)[0] + '.' + m.group(2), '')
    return renamed


def altered_objects(prelude):
    """The objects the prelude declares altered (`-- altered: KIND name`)."""
    return {(m.group(1).upper(), m.group(2), '')
            for m in re.finditer(r'^--\s*altered:\s*(TABLE|TYPE)\s+' + NAME + r'\s*$', prelude, re.M)}


def mentions(statement, names):
    """Whether a statement names one of the given objects."""
    text = strip_comments(statement)
    return any(re.search(re.escape(name) + r'(?![A-Za-z_0-9])', text) for name in names)


def generate(old_install, new_install, prelude, postlude, version_from, version_to):
    """The update script's text; raises SystemExit naming what the prelude must handle."""
    old_statements = split_statements(old_install)
    old_texts = {strip_comments(s) for s in old_statements}
    renamed = renamed_tables(prelude)
    old_objects = {renamed.get(key, key) for key in map(created_object, old_statements) if key}
    dropped = dropped_objects(prelude)
    altered = altered_objects(prelude)
    dropped_names = {key[1] for key in dropped}
    problems, body, new_objects = [], [], set()
    for statement in map(attached, split_statements(new_install)):
        text = strip_comments(statement)
        if not text or text.startswith('\\'):
            continue
        key = created_object(statement)
        if key:
            new_objects.add(key)
        if key and key[0] in ('FUNCTION', 'PROCEDURE', 'AGGREGATE', 'VIEW'):
            if key in dropped or key not in old_objects:
                body.append(statement)
            elif text not in old_texts:
                body.append(re.sub(r'^(\s*)CREATE\s+' + key[0], r'\1CREATE OR REPLACE ' + key[0], statement,
                                   count=1, flags=re.I | re.M))
        elif key and key in old_objects and key not in dropped and text not in old_texts and key[0] in ('TABLE', 'TYPE'):
            if key not in altered and not (key[0] == 'TYPE' and text.startswith('CREATE TYPE ' + key[1] + ';')):
                problems.append('%s %s changed: ALTER it in the prelude (and say "-- altered: %s %s") or drop it there'
                                % (key[0], key[1], key[0], key[1]))
        elif text not in old_texts or mentions(statement, dropped_names):
            body.append(statement)
    for key in old_objects:
        if key not in new_objects and key not in dropped:
            problems.append('%s %s(%s) is gone from the schema: drop it in the prelude' % key if key[2]
                            else '%s %s is gone from the schema: drop it in the prelude' % key[:2])
    if problems:
        raise SystemExit('generate_update.py %s--%s:\n  ' % (version_from, version_to) + '\n  '.join(problems))
    header = ('-- mailstatus %s -> %s. GENERATED by tools/generate_update.py from sql/updates/%s--%s/ and\n'
              '-- sql/schema/ against the released %s install script: edit those, not this file.\n'
              '\\echo Use "ALTER EXTENSION mailstatus UPDATE TO \'%s\'" to load this file. \\quit\n'
              % (version_from, version_to, version_from, version_to, version_from, version_to))
    section = '\n-- %s\n'
    return (header + section % 'Prelude (by hand).' + prelude.strip('\n') + '\n'
            + section % 'What the schema parts define differently from %s.' % version_from
            + '\n\n'.join(body) + '\n'
            + section % 'Postlude (by hand).' + postlude.strip('\n') + '\n')


def main(argv):
    """Reads the scripts named on the command line and prints the update script."""
    if len(argv) != 6:
        sys.exit(__doc__)
    old_path, new_path, update_dir, version_from, version_to = argv[1:]
    read = lambda path: open(path, encoding='utf-8').read()
    sys.stdout.write(generate(read(old_path), read(new_path), read(update_dir + '/prelude.sql'),
                              read(update_dir + '/postlude.sql'), version_from, version_to))


if __name__ == '__main__':
    main(sys.argv)
