/** Counts RPCs in progress, so a shutdown can say how many it is letting finish. */
export class InflightTracker {
  private count = 0;

  enter(): () => void {
    this.count++;
    let left = false;
    return () => {
      if (left) return;
      left = true;
      this.count--;
    };
  }

  get size(): number {
    return this.count;
  }
}
