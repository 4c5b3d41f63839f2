/**
 * Every GraphQL document the dashboard sends is valid against `schema.graphql`: those of part one
 * as they are, and the part-two ones (src/dashboard/graphql/part-two.ts) against the schema
 * extended with the names docs/contract.md §8–§10 gives them, where the schema lacks them. When the
 * schema has them all, PART_TWO_FIELDS must be on.
 */
import { readFileSync } from 'node:fs';
import { buildSchema, extendSchema, isEnumType, isInputObjectType, isObjectType, Kind, parse, validate, type DefinitionNode, type DocumentNode, type GraphQLSchema } from 'graphql';
import { describe, expect, it } from 'vitest';
import { dashboardDocuments } from '../../src/dashboard/graphql/documents.js';
import { CANCEL_EVACUATION, EVACUATE_HOST, EVACUATION_PLAN, EVACUATIONS, PART_TWO_EXPECTED_SDL, PART_TWO_FIELDS } from '../../src/dashboard/graphql/part-two.js';

const SCHEMA = buildSchema(readFileSync(new URL('../../schema.graphql', import.meta.url), 'utf8'));

const errorsOf = (schema: GraphQLSchema, document: string): string[] => validate(schema, parse(document)).map((e) => e.message);

/** The part of PART_TWO_EXPECTED_SDL the schema lacks (types, fields and enum values it does not have yet). */
function missingPartTwo(schema: GraphQLSchema): DocumentNode {
  const missing: DefinitionNode[] = [];
  for (const definition of parse(PART_TWO_EXPECTED_SDL).definitions) {
    if (!('name' in definition) || definition.name === undefined) continue;
    const existing = schema.getType(definition.name.value);
    if (definition.kind === Kind.OBJECT_TYPE_EXTENSION) {
      const have = isObjectType(existing) ? existing.getFields() : {};
      const fields = (definition.fields ?? []).filter((f) => !(f.name.value in have));
      if (fields.length > 0) missing.push({ ...definition, fields });
    } else if (definition.kind === Kind.ENUM_TYPE_EXTENSION) {
      const have = new Set(isEnumType(existing) ? existing.getValues().map((v) => v.name) : []);
      const values = (definition.values ?? []).filter((v) => !have.has(v.name.value));
      if (values.length > 0) missing.push({ ...definition, values });
    } else if (existing === undefined || !(isObjectType(existing) || isEnumType(existing) || isInputObjectType(existing))) {
      missing.push(definition);
    }
  }
  return { kind: Kind.DOCUMENT, definitions: missing };
}

/** Whether the schema already has every part-two name the dashboard uses. */
const hasPartTwo = (schema: GraphQLSchema): boolean => missingPartTwo(schema).definitions.length === 0;

const PART_TWO_DOCUMENTS = { EVACUATIONS, EVACUATION_PLAN, EVACUATE_HOST, CANCEL_EVACUATION };

describe("the dashboard's GraphQL documents", () => {
  it('should all be valid against schema.graphql without the part-two fields', () => {
    for (const [name, document] of Object.entries(dashboardDocuments(false))) expect({ name, errors: errorsOf(SCHEMA, document) }).toEqual({ name, errors: [] });
  });

  it('should all be valid with the part-two fields, against the schema with the part-two names of docs/contract.md §8–§10', () => {
    const schema = hasPartTwo(SCHEMA) ? SCHEMA : extendSchema(SCHEMA, missingPartTwo(SCHEMA));
    const all = { ...dashboardDocuments(true), ...PART_TWO_DOCUMENTS };
    for (const [name, document] of Object.entries(all)) expect({ name, errors: errorsOf(schema, document) }).toEqual({ name, errors: [] });
  });

  it('should have PART_TWO_FIELDS on once schema.graphql has the part-two names (flip it in src/dashboard/graphql/part-two.ts)', () => {
    if (hasPartTwo(SCHEMA)) expect(PART_TWO_FIELDS).toBe(true);
    else expect(PART_TWO_FIELDS).toBe(false);
  });

  it('should never ask for every VM: no document selects `vms`', () => {
    const all = { ...dashboardDocuments(true), ...PART_TWO_DOCUMENTS };
    for (const document of Object.values(all)) expect(document).not.toMatch(/\bvms\b/);
  });
});
