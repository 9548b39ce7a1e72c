/**
 * The `state.values` of the start form (src/slack/modals.ts) as Slack sends them in a
 * view_submission (https://docs.slack.dev/reference/interaction-payloads/view-interactions-payload).
 */
export function startFormState(f: {
  title: string;
  severity: 'SEV1' | 'SEV2' | 'SEV3' | 'SEV4';
  summary?: string;
  private?: boolean;
}): Record<string, Record<string, unknown>> {
  return {
    title: { title: { type: 'plain_text_input', value: f.title } },
    severity: {
      severity: {
        type: 'static_select',
        selected_option: { value: f.severity, text: { type: 'plain_text', text: f.severity } },
      },
    },
    ...(f.private
      ? {
          private: {
            private: {
              type: 'checkboxes',
              selected_options: [
                { value: 'private', text: { type: 'plain_text', text: 'Private incident' } },
              ],
            },
          },
        }
      : {}),
    summary: { summary: { type: 'plain_text_input', value: f.summary ?? null } },
  };
}
