// Modules that plug commands, routes, job processors and Slack listeners into the core wiring.
// Imported once by src/process.ts; each import registers itself.
import './alerts/routes.js';
import './slack/alert-actions.js';
import './slack/checklist-actions.js';
