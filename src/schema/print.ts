/** `npm run schema`: writes `schema.graphql` at the repository root from the Pothos schema. */
import { writeFileSync } from 'node:fs';
import { printedSchema } from './index.js';

const target = new URL('../../schema.graphql', import.meta.url);
writeFileSync(target, printedSchema());
console.log(`wrote ${target.pathname}`);
