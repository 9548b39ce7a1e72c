import type { Config } from '../config.js';
import type { PagerPort, TrackerPort } from '../flows/deps.js';
import { GitHubTracker } from './github.js';
import { JiraTracker } from './jira.js';
import { PagerDutyEvents } from './pagerduty.js';

/** The follow-up tracker and PagerDuty ports the settings ask for (loadConfig already checked they fit together). */
export function outboundPorts(config: Config): { tracker?: TrackerPort; pager?: PagerPort } {
  const timeoutMs = config.OUTBOUND_TIMEOUT_MS;
  let tracker: TrackerPort | undefined;
  if (config.FOLLOWUP_GITHUB_REPO && config.GITHUB_TOKEN) {
    tracker = new GitHubTracker({
      repo: config.FOLLOWUP_GITHUB_REPO,
      token: config.GITHUB_TOKEN,
      baseUrl: config.GITHUB_API_URL,
      timeoutMs,
      ownerMap: config.FOLLOWUP_OWNER_MAP,
    });
  } else if (
    config.FOLLOWUP_JIRA_URL &&
    config.FOLLOWUP_JIRA_PROJECT &&
    config.JIRA_EMAIL &&
    config.JIRA_API_TOKEN
  ) {
    tracker = new JiraTracker({
      url: config.FOLLOWUP_JIRA_URL,
      project: config.FOLLOWUP_JIRA_PROJECT,
      issueType: config.FOLLOWUP_JIRA_ISSUE_TYPE,
      email: config.JIRA_EMAIL,
      apiToken: config.JIRA_API_TOKEN,
      timeoutMs,
      ownerMap: config.FOLLOWUP_OWNER_MAP,
    });
  }
  const pager = config.PAGERDUTY_ROUTING_KEYS
    ? new PagerDutyEvents({ url: config.PAGERDUTY_EVENTS_URL, timeoutMs })
    : undefined;
  return { tracker, pager };
}
