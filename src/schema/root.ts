/** The three root types, so that each carries a description; their fields are defined beside their types. */
import { builder } from './builder.js';

builder.queryType({ description: 'Read the state of hosts, VMs and migrations, the event log and the decision table.' });
builder.mutationType({ description: 'Commands of operators and automation (migrate, cancel) and reports of host agents.' });
builder.subscriptionType({ description: 'Live streams for monitors (transitions, events) and host agents (their orders).' });
