/** Where every service gets the time, so expiry tests move a clock instead of sleeping. */
export type Clock = () => Date

export const systemClock: Clock = () => new Date()
