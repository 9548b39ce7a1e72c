/** Block Kit limits the sandbox enforces, from https://docs.slack.dev/reference/block-kit/blocks. */
export const BLOCK_LIMITS = {
  blocksPerMessage: 50,
  blocksPerView: 100,
  sectionText: 3000,
  sectionFields: 10,
  sectionFieldText: 2000,
  headerText: 150,
  contextElements: 10,
  actionsElements: 25,
  blockId: 255,
  /**
   * Element and composition-object limits, from the TSDoc of `@slack/types` (block-kit/block-elements.d.ts,
   * composition-objects.d.ts, views.d.ts) and https://docs.slack.dev/reference/block-kit/block-elements.
   */
  buttonText: 75,
  buttonValue: 2000,
  buttonUrl: 3000,
  actionId: 255,
  optionText: 75,
  optionValue: 150,
  optionDescription: 75,
  checkboxOptions: 10,
  radioOptions: 10,
  selectOptions: 100,
  overflowOptions: 5,
  placeholder: 150,
  inputLabel: 2000,
  /** Modal `title`, `submit`, `close`: plain_text of at most 24 characters. */
  viewTitle: 24,
  /**
   * Slack answers `msg_blocks_too_long` for blocks too large in all, without publishing the number
   * (https://docs.slack.dev/reference/methods/chat.postMessage#errors); the sandbox applies
   * chat.postMessage's 40,000-character text limit to the serialized blocks.
   */
  blocksJson: 40_000,
} as const;

const BLOCK_TYPES = new Set([
  'section',
  'divider',
  'image',
  'actions',
  'context',
  'input',
  'header',
  'file',
  'rich_text',
  'video',
  'markdown',
]);

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Checks a text object (`{ type: 'plain_text' | 'mrkdwn', text }`); returns Slack-style error strings. */
function checkText(t: unknown, path: string, max: number, kinds = ['plain_text', 'mrkdwn']): string[] {
  if (!isObject(t)) return [`must be an object [json-pointer:${path}]`];
  if (typeof t.type !== 'string' || !kinds.includes(t.type)) {
    return [`must be one of ${kinds.join(', ')} [json-pointer:${path}/type]`];
  }
  if (typeof t.text !== 'string' || t.text.length === 0) {
    return [`must be more than 0 characters [json-pointer:${path}/text]`];
  }
  if (t.text.length > max) return [`must be less than ${max + 1} characters [json-pointer:${path}/text]`];
  return [];
}

/**
 * Validates a `blocks` array the way chat.postMessage does (count, known types, section and header text
 * lengths, element counts, unique block_ids). Returns Slack's `[ERROR] ... [json-pointer:...]` strings,
 * empty when valid. https://docs.slack.dev/reference/block-kit/blocks
 */
export function validateBlocks(blocks: unknown, maxBlocks: number = BLOCK_LIMITS.blocksPerMessage): string[] {
  if (!Array.isArray(blocks)) return ['must be an array [json-pointer:/blocks]'];
  const errors: string[] = [];
  if (blocks.length > maxBlocks)
    errors.push(`no more than ${maxBlocks} items allowed [json-pointer:/blocks]`);
  const elements = (list: unknown, p: string) => {
    if (Array.isArray(list))
      list.forEach((el, j) => {
        errors.push(...validateElement(el, `${p}/${j}`));
      });
  };
  const ids = new Set<string>();
  blocks.forEach((b, i) => {
    const p = `/blocks/${i}`;
    if (!isObject(b)) {
      errors.push(`must be an object [json-pointer:${p}]`);
      return;
    }
    if (typeof b.type !== 'string' || !BLOCK_TYPES.has(b.type)) {
      errors.push(`must provide a valid block type [json-pointer:${p}/type]`);
      return;
    }
    if (b.block_id !== undefined) {
      if (typeof b.block_id !== 'string' || b.block_id.length > BLOCK_LIMITS.blockId) {
        errors.push(
          `must be a string of at most ${BLOCK_LIMITS.blockId} characters [json-pointer:${p}/block_id]`,
        );
      } else if (ids.has(b.block_id)) {
        errors.push(`duplicate block_id [json-pointer:${p}/block_id]`);
      } else {
        ids.add(b.block_id);
      }
    }
    switch (b.type) {
      case 'section': {
        if (b.text === undefined && b.fields === undefined) {
          errors.push(`must provide either text or fields [json-pointer:${p}]`);
        }
        if (b.text !== undefined) errors.push(...checkText(b.text, `${p}/text`, BLOCK_LIMITS.sectionText));
        if (b.accessory !== undefined) errors.push(...validateElement(b.accessory, `${p}/accessory`));
        if (b.fields !== undefined) {
          if (!Array.isArray(b.fields) || b.fields.length > BLOCK_LIMITS.sectionFields) {
            errors.push(
              `must be an array of at most ${BLOCK_LIMITS.sectionFields} items [json-pointer:${p}/fields]`,
            );
          } else {
            b.fields.forEach((f, j) => {
              errors.push(...checkText(f, `${p}/fields/${j}`, BLOCK_LIMITS.sectionFieldText));
            });
          }
        }
        break;
      }
      case 'header':
        errors.push(...checkText(b.text, `${p}/text`, BLOCK_LIMITS.headerText, ['plain_text']));
        break;
      case 'context':
        if (!Array.isArray(b.elements) || b.elements.length === 0) {
          errors.push(`must provide at least 1 element [json-pointer:${p}/elements]`);
        } else if (b.elements.length > BLOCK_LIMITS.contextElements) {
          errors.push(
            `no more than ${BLOCK_LIMITS.contextElements} items allowed [json-pointer:${p}/elements]`,
          );
        }
        break;
      case 'actions':
        if (!Array.isArray(b.elements) || b.elements.length === 0) {
          errors.push(`must provide at least 1 element [json-pointer:${p}/elements]`);
        } else if (b.elements.length > BLOCK_LIMITS.actionsElements) {
          errors.push(
            `no more than ${BLOCK_LIMITS.actionsElements} items allowed [json-pointer:${p}/elements]`,
          );
        }
        elements(b.elements, `${p}/elements`);
        break;
      case 'input':
        errors.push(...checkText(b.label, `${p}/label`, BLOCK_LIMITS.inputLabel, ['plain_text']));
        if (!isObject(b.element)) errors.push(`must provide an element [json-pointer:${p}/element]`);
        else errors.push(...validateElement(b.element, `${p}/element`));
        break;
      default:
        break;
    }
  });
  return errors;
}

/** An option object (https://docs.slack.dev/reference/block-kit/composition-objects/option-object). */
function checkOption(o: unknown, path: string): string[] {
  if (!isObject(o)) return [`must be an object [json-pointer:${path}]`];
  const errors = checkText(o.text, `${path}/text`, BLOCK_LIMITS.optionText);
  if (typeof o.value !== 'string' || o.value.length > BLOCK_LIMITS.optionValue) {
    errors.push(
      `must be a string of at most ${BLOCK_LIMITS.optionValue} characters [json-pointer:${path}/value]`,
    );
  }
  if (o.description !== undefined) {
    errors.push(...checkText(o.description, `${path}/description`, BLOCK_LIMITS.optionDescription));
  }
  return errors;
}

function checkOptions(options: unknown, path: string, max: number, min = 1): string[] {
  if (!Array.isArray(options)) return [`must provide an array of options [json-pointer:${path}]`];
  const errors: string[] = [];
  if (options.length < min) errors.push(`must provide at least ${min} items [json-pointer:${path}]`);
  if (options.length > max) errors.push(`no more than ${max} items allowed [json-pointer:${path}]`);
  options.forEach((o, i) => {
    errors.push(...checkOption(o, `${path}/${i}`));
  });
  return errors;
}

/**
 * Checks an interactive element (button, selects, checkboxes, radio buttons, overflow, text input)
 * against the limits in BLOCK_LIMITS; text and image elements of a context block pass through.
 */
export function validateElement(el: unknown, path: string): string[] {
  if (!isObject(el)) return [`must be an object [json-pointer:${path}]`];
  const errors: string[] = [];
  if (
    el.action_id !== undefined &&
    (typeof el.action_id !== 'string' || el.action_id.length > BLOCK_LIMITS.actionId)
  ) {
    errors.push(
      `must be a string of at most ${BLOCK_LIMITS.actionId} characters [json-pointer:${path}/action_id]`,
    );
  }
  if (el.placeholder !== undefined) {
    errors.push(
      ...checkText(el.placeholder, `${path}/placeholder`, BLOCK_LIMITS.placeholder, ['plain_text']),
    );
  }
  switch (el.type) {
    case 'button':
      errors.push(...checkText(el.text, `${path}/text`, BLOCK_LIMITS.buttonText, ['plain_text']));
      if (typeof el.value === 'string' && el.value.length > BLOCK_LIMITS.buttonValue) {
        errors.push(`must be at most ${BLOCK_LIMITS.buttonValue} characters [json-pointer:${path}/value]`);
      }
      if (typeof el.url === 'string' && el.url.length > BLOCK_LIMITS.buttonUrl) {
        errors.push(`must be at most ${BLOCK_LIMITS.buttonUrl} characters [json-pointer:${path}/url]`);
      }
      break;
    case 'checkboxes':
      errors.push(...checkOptions(el.options, `${path}/options`, BLOCK_LIMITS.checkboxOptions));
      break;
    case 'radio_buttons':
      errors.push(...checkOptions(el.options, `${path}/options`, BLOCK_LIMITS.radioOptions));
      break;
    case 'overflow':
      errors.push(...checkOptions(el.options, `${path}/options`, BLOCK_LIMITS.overflowOptions, 1));
      break;
    case 'static_select':
    case 'multi_static_select':
      if (el.options !== undefined) {
        errors.push(...checkOptions(el.options, `${path}/options`, BLOCK_LIMITS.selectOptions));
      }
      break;
    case 'plain_text_input':
      if (typeof el.max_length === 'number' && el.max_length > 3000) {
        errors.push(`must be at most 3000 [json-pointer:${path}/max_length]`);
      }
      break;
    default:
      break;
  }
  return errors;
}

function textOf(t: unknown): string {
  return isObject(t) && typeof t.text === 'string' ? t.text : '';
}

function richText(el: unknown): string {
  if (!isObject(el)) return '';
  if (typeof el.text === 'string') return el.text;
  if (el.type === 'user' && typeof el.user_id === 'string') return `<@${el.user_id}>`;
  if (el.type === 'link' && typeof el.url === 'string') return el.url;
  return Array.isArray(el.elements) ? el.elements.map(richText).join('') : '';
}

/** Renders blocks as plain lines of their visible text (buttons as `[label]`), for transcripts. */
export function blocksToText(blocks: unknown[]): string[] {
  const lines: string[] = [];
  for (const b of blocks) {
    if (!isObject(b)) continue;
    switch (b.type) {
      case 'header':
        lines.push(`# ${textOf(b.text)}`);
        break;
      case 'section': {
        if (b.text) lines.push(textOf(b.text));
        if (Array.isArray(b.fields)) lines.push(b.fields.map(textOf).join(' | '));
        if (isObject(b.accessory) && b.accessory.type === 'button')
          lines.push(`[${textOf(b.accessory.text)}]`);
        break;
      }
      case 'context':
        if (Array.isArray(b.elements)) lines.push(b.elements.map(textOf).filter(Boolean).join(' · '));
        break;
      case 'actions':
        if (Array.isArray(b.elements)) {
          lines.push(b.elements.map((e) => `[${textOf(isObject(e) ? e.text : undefined) || '…'}]`).join(' '));
        }
        break;
      case 'divider':
        lines.push('---');
        break;
      case 'rich_text':
        if (Array.isArray(b.elements)) lines.push(b.elements.map(richText).join('\n'));
        break;
      case 'markdown':
        if (typeof b.text === 'string') lines.push(b.text);
        break;
      case 'image':
        lines.push(`[image: ${typeof b.alt_text === 'string' ? b.alt_text : ''}]`);
        break;
      case 'input':
        lines.push(`${textOf(b.label)}: ____`);
        break;
      default:
        break;
    }
  }
  return lines.filter((l) => l.length > 0);
}
