#!/usr/bin/env python3
"""Tests of tools/generate_update.py: what it writes for each kind of change, and what it refuses."""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from generate_update import argument_types, generate, split_statements  # noqa: E402

OLD = """\\echo Use "CREATE EXTENSION mailstatus" to load this file. \\quit
-- A table.
CREATE TABLE @extschema@.t (a integer);
CREATE FUNCTION @extschema@.f(a integer, b text DEFAULT 'x;y') RETURNS integer
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
BEGIN ATOMIC
    SELECT CASE WHEN a > 0 THEN a ELSE 0 END;
END;
COMMENT ON FUNCTION @extschema@.f(integer, text) IS 'f; the first';
CREATE FUNCTION @extschema@.g() RETURNS text LANGUAGE plpgsql AS $$ BEGIN RETURN ';'; END $$;
CREATE VIEW @extschema@.v AS SELECT a FROM @extschema@.t;
"""


def update(new, prelude='', postlude=''):
    """The generated body between prelude and postlude, for OLD updated to new."""
    script = generate(OLD, new, prelude, postlude, '1', '2')
    return script.split('differently from 1.\n', 1)[1].split('\n-- Postlude', 1)[0].strip()


class GenerateUpdateTest(unittest.TestCase):
    def test_statements_split_outside_quotes_and_atomic_bodies(self):
        self.assertEqual(len(split_statements(OLD)), 6)

    def test_argument_types_ignore_names_defaults_and_out(self):
        self.assertEqual(argument_types("a integer, b text DEFAULT 'x', OUT c int, VARIADIC d timestamptz[]"),
                         'integer,text,timestamptz[]')
        self.assertEqual(argument_types('double precision, x timestamp with time zone'),
                         'double precision,timestamp with time zone')

    def test_nothing_changed_nothing_written(self):
        self.assertEqual(update(OLD), '')

    def test_edited_comment_lines_change_nothing(self):
        self.assertEqual(update(OLD.replace('-- A table.', '-- The table.')), '')

    def test_changed_function_replaced(self):
        body = update(OLD.replace('ELSE 0 END', 'ELSE -1 END'))
        self.assertTrue(body.startswith('CREATE OR REPLACE FUNCTION @extschema@.f('), body)

    def test_changed_comment_written(self):
        self.assertEqual(update(OLD.replace("'f; the first'", "'f; the second'")),
                         "COMMENT ON FUNCTION @extschema@.f(integer, text) IS 'f; the second';")

    def test_new_objects_created_plainly(self):
        body = update(OLD + "CREATE FUNCTION @extschema@.h(integer) RETURNS integer LANGUAGE sql AS 'SELECT 1';\n"
                      "REVOKE ALL ON FUNCTION @extschema@.h(integer) FROM PUBLIC;\n")
        self.assertTrue(body.startswith('CREATE FUNCTION @extschema@.h(integer)'), body)
        self.assertIn('REVOKE ALL ON FUNCTION @extschema@.h(integer) FROM PUBLIC;', body)

    def test_changed_view_replaced(self):
        body = update(OLD.replace('SELECT a FROM', 'SELECT a, 1 AS b FROM'))
        self.assertTrue(body.startswith('CREATE OR REPLACE VIEW @extschema@.v'), body)

    def test_dropped_in_prelude_created_again_with_its_comment(self):
        new = OLD.replace('f(a integer, b text', 'f(a integer, c text')
        prelude = 'DROP FUNCTION @extschema@.f(integer, text);'
        body = update(new, prelude)
        self.assertTrue(body.startswith('CREATE FUNCTION @extschema@.f(a integer, c text'), body)
        self.assertIn("COMMENT ON FUNCTION @extschema@.f(integer, text) IS 'f; the first';", body)

    def test_vanished_object_refused_unless_dropped(self):
        new = OLD.replace("CREATE VIEW @extschema@.v AS SELECT a FROM @extschema@.t;\n", '')
        with self.assertRaises(SystemExit) as refused:
            update(new)
        self.assertIn('VIEW @extschema@.v is gone', str(refused.exception))
        self.assertEqual(update(new, 'DROP VIEW @extschema@.v;'), '')

    def test_changed_table_refused_unless_altered(self):
        new = OLD.replace('(a integer);', '(a integer, b text);')
        with self.assertRaises(SystemExit) as refused:
            update(new)
        self.assertIn('TABLE @extschema@.t changed', str(refused.exception))
        self.assertEqual(update(new, 'ALTER TABLE @extschema@.t ADD COLUMN b text;\n-- altered: TABLE @extschema@.t'), '')

    def test_renamed_table_not_created_and_its_old_name_not_gone(self):
        new = OLD.replace('TABLE @extschema@.t ', 'TABLE @extschema@.u ').replace('FROM @extschema@.t;', 'FROM @extschema@.u;')
        with self.assertRaises(SystemExit) as refused:
            update(new)
        self.assertIn('TABLE @extschema@.t is gone', str(refused.exception))
        prelude = 'ALTER TABLE @extschema@.t RENAME TO u;'
        with self.assertRaises(SystemExit) as refused:
            update(new, prelude)
        self.assertIn('TABLE @extschema@.u changed', str(refused.exception))
        self.assertNotIn('@extschema@.t is gone', str(refused.exception))
        body = update(new, prelude + '\n-- altered: TABLE @extschema@.u')
        self.assertEqual(body, 'CREATE OR REPLACE VIEW @extschema@.v AS SELECT a FROM @extschema@.u;')

    def test_prelude_and_postlude_framed(self):
        script = generate(OLD, OLD, 'SELECT 1;', 'SELECT 2;', '1', '2')
        self.assertTrue(script.startswith('-- mailstatus 1 -> 2. GENERATED'))
        self.assertLess(script.index('SELECT 1;'), script.index('SELECT 2;'))


if __name__ == '__main__':
    unittest.main()
