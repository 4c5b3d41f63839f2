/**
 * The names of docs/contract.md §9, exactly, as a client relies on them: types, their fields, enum
 * values, arguments, inputs and payloads.
 */
import { isEnumType, isInputObjectType, isObjectType } from 'graphql';
import { describe, expect, it } from 'vitest';
import { schema } from '../../src/schema/index.js';

const fieldsOf = (name: string): string[] => {
  const type = schema.getType(name);
  if (!isObjectType(type) && !isInputObjectType(type)) throw new Error(`${name} is not an object or input type`);
  return Object.keys(type.getFields());
};
const valuesOf = (name: string): string[] => {
  const type = schema.getType(name);
  if (!isEnumType(type)) throw new Error(`${name} is not an enum`);
  return type.getValues().map((v) => v.name);
};
const argsOf = (root: 'Query' | 'Mutation', field: string): string[] => {
  const type = schema.getType(root);
  if (!isObjectType(type)) throw new Error(`${root} is not an object type`);
  return (type.getFields()[field]?.args ?? []).map((a) => a.name);
};

describe('docs/contract.md §9 names', () => {
  it.each([
    ['Evacuation', ['id', 'host', 'state', 'startedAt', 'endedAt', 'total', 'moved', 'remaining', 'failed', 'migrations', 'blockers']],
    ['EvacuationBlocker', ['vm', 'reason']],
    ['EvacuationPlan', ['host', 'moves', 'blocked']],
    ['EvacuationMove', ['vm', 'destination']],
    ['EvacuateHostPayload', ['evacuation', 'errors']],
    ['CancelEvacuationPayload', ['evacuation', 'errors']],
    ['EvacuateHostInput', ['hostId']],
    ['CancelEvacuationInput', ['hostId']],
  ])('should give %s the fields %j', (type, fields) => {
    expect(fieldsOf(type)).toEqual(expect.arrayContaining(fields));
  });

  it('should name the enum values', () => {
    expect(valuesOf('EvacuationState').sort()).toEqual(['CANCELLED', 'COMPLETED', 'FAILED', 'IN_PROGRESS']);
    expect(valuesOf('HostStatus')).toContain('PREPARING_FOR_MAINTENANCE');
    expect(valuesOf('ErrorCode')).toContain('NOT_EVACUATING');
    expect(valuesOf('EventType')).toEqual(expect.arrayContaining(['EVACUATION_STARTED', 'EVACUATION_COMPLETED', 'EVACUATION_FAILED', 'EVACUATION_CANCELLED']));
  });

  it('should take the arguments of §9', () => {
    expect(argsOf('Query', 'evacuation')).toEqual(['id']);
    expect(argsOf('Query', 'evacuations').sort()).toEqual(['after', 'first', 'hostId', 'state']);
    expect(argsOf('Query', 'evacuationPlan')).toEqual(['hostId']);
    expect(argsOf('Mutation', 'evacuateHost')).toEqual(['input']);
    expect(argsOf('Mutation', 'cancelEvacuation')).toEqual(['input']);
  });
});
