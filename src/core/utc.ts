/**
 * A Date whose local-time getters read UTC, so date-fns `format` prints UTC wall time whatever
 * the machine's TZ (incident times are always shown in UTC).
 */
export class UTCDate extends Date {
  constructor(value: string | number | Date) {
    super(typeof value === 'string' ? Date.parse(value) : value instanceof Date ? value.getTime() : value);
  }
  override getFullYear() {
    return this.getUTCFullYear();
  }
  override getMonth() {
    return this.getUTCMonth();
  }
  override getDate() {
    return this.getUTCDate();
  }
  override getDay() {
    return this.getUTCDay();
  }
  override getHours() {
    return this.getUTCHours();
  }
  override getMinutes() {
    return this.getUTCMinutes();
  }
  override getSeconds() {
    return this.getUTCSeconds();
  }
  override getMilliseconds() {
    return this.getUTCMilliseconds();
  }
  override getTimezoneOffset() {
    return 0;
  }
}
