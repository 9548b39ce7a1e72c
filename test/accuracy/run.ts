/**
 * `npm run accuracy`: prints the scorecard (scenario x check: expected verdict, got, servers named) and exits 1 on
 * any false alarm, miss or other wrong verdict. See test/accuracy/scorecard.ts.
 */
import { render, scorecard } from './scorecard.js';

const rows = await scorecard();
process.stdout.write(`${render(rows)}\n`);
process.exit(rows.every((r) => r.outcome === 'ok') ? 0 : 1);
