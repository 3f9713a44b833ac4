/** The middle value (the upper one of an even count): robust to a slow round. */
export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
