/**
 * HTML's event handler IDL attributes (`onopen`, `onmessage`, …: HTML § 8.1.8.1) for one
 * EventTarget. What browsers do, and what this does:
 * - the attribute holds any object, callable or not (WebIDL `[LegacyTreatNonObjectAsNull]`);
 *   setting a non-object stores null;
 * - the first non-null value adds one listener to the target, at that moment: it keeps its
 *   place among the listeners added by `addEventListener` while the value changes, and loses
 *   it only when the attribute is set to null (the next value is added at the end);
 * - a non-callable value is kept and returned by the getter, and invokes nothing;
 * - the handler runs with `this` the event's currentTarget; returning `false` cancels the event.
 *
 * This object is itself the listener (`handleEvent`), one per target, so no closure is made
 * per attribute or per event.
 */
export class EventHandlers {
  private readonly values = new Map<string, object>();

  constructor(private readonly target: EventTarget) {}

  /** The attribute's value: the object last set, or null. */
  get(type: string): object | null {
    return this.values.get(type) ?? null;
  }

  /** Sets the attribute: activates the handler on the first object, deactivates it on a non-object. */
  set(type: string, value: unknown): void {
    if ((typeof value !== 'object' && typeof value !== 'function') || value === null) {
      if (this.values.delete(type)) removeListener.call(this.target, type, this);
      return;
    }
    const active = this.values.has(type);
    this.values.set(type, value);
    if (!active) addListener.call(this.target, type, this);
  }

  /** The event handler processing algorithm: run the current value if it is callable. */
  handleEvent(event: Event): void {
    const callback = this.values.get(event.type);
    if (typeof callback !== 'function') return;
    const result: unknown = (callback as (this: unknown, e: Event) => unknown).call(event.currentTarget, event);
    if (result === false) event.preventDefault();
  }
}

// The target's own methods, not whatever a script may have put on the instance.
const addListener = EventTarget.prototype.addEventListener;
const removeListener = EventTarget.prototype.removeEventListener;
