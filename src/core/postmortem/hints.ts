/** Where a section with no data tells the reader to add it. Kept in one place so they track the command names. */
export const HINT = {
  impact: 'No impact recorded: set it with `/incident impact <text>`.',
  rootCause:
    'No root cause recorded: confirm a hypothesis with `/incident confirm <hypothesis>` or set it with `/incident rootcause <text>`.',
  resolution:
    'No resolution recorded: close with `/incident close <resolution>` or add a `/incident note` describing the fix.',
  hypotheses:
    'No hypotheses recorded: add them with `/incident suspect <text>` so the draft shows each investigation path.',
  followups: 'No follow-ups recorded: add them with `/incident followup <text> [@owner]`.',
} as const;
