// Wall-clock milliseconds read once per ring-buffer batch instead of once per transaction or event
// (several Date.now() calls per transaction added up under load). Everything that only needs
// "about now" for TTLs and link deadlines reads this; until the first batch sets it (tests, tools
// without a capture), it reads Date.now().
export class BatchClock {
  private ms = 0;

  set(ms: number): void {
    this.ms = ms;
  }

  readonly now = (): number => this.ms || Date.now();
}
