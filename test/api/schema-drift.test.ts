import { readFileSync } from 'node:fs';
import { isEnumType, isInputObjectType, isInterfaceType, isObjectType, isScalarType, type GraphQLNamedType } from 'graphql';
import { describe, expect, it } from 'vitest';
import { printedSchema, schema } from '../../src/schema/index.js';

const COMMITTED = new URL('../../schema.graphql', import.meta.url);

/** Every type, field, argument and enum value the schema defines that has no description. */
function undescribed(): string[] {
  const missing: string[] = [];
  const types = Object.values(schema.getTypeMap()).filter((t: GraphQLNamedType) => !t.name.startsWith('__'));
  for (const type of types) {
    if (isScalarType(type) && ['String', 'Int', 'Float', 'Boolean', 'ID'].includes(type.name)) continue;
    if (!type.description) missing.push(type.name);
    if (isObjectType(type) || isInterfaceType(type) || isInputObjectType(type)) {
      for (const field of Object.values(type.getFields())) {
        if (!field.description) missing.push(`${type.name}.${field.name}`);
        for (const arg of 'args' in field ? field.args : []) if (!arg.description) missing.push(`${type.name}.${field.name}(${arg.name})`);
      }
    }
    if (isEnumType(type)) for (const value of type.getValues()) if (!value.description) missing.push(`${type.name}.${value.name}`);
  }
  return missing;
}

describe('schema.graphql', () => {
  it('should be exactly the schema the code builds (run `npm run schema` after changing it)', () => {
    expect(readFileSync(COMMITTED, 'utf8')).toBe(printedSchema());
  });

  it('should describe every type, field, argument and enum value (GraphiQL shows them)', () => {
    expect(undescribed()).toEqual([]);
  });

  it.each([
    ['Query', ['vm', 'vms', 'host', 'hosts', 'migration', 'migrations', 'events', 'decisionTable', 'engine', 'evacuation', 'evacuations', 'evacuationPlan']],
    ['Mutation', ['registerHost', 'migrateVm', 'cancelMigration', 'reportVmStatuses', 'reportHostStatus', 'reportFenceResult', 'evacuateHost', 'cancelEvacuation', /* §11 */ 'removeHost']],
    ['Subscription', ['transitions', 'events', 'hostCommands']],
  ])('should name the %s fields of docs/contract.md §6 and §9', (root, fields) => {
    const type = schema.getType(root);
    if (!isObjectType(type)) throw new Error(`${root} is not an object type`);
    expect(Object.keys(type.getFields()).sort()).toEqual([...fields].sort());
  });
});
