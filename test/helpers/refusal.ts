/** The message of what `fn` throws, or 'accepted' when it throws nothing: for tables of refused settings. */
export function refusalOf (fn: () => unknown): string {
  try {
    fn()
  } catch (error) {
    return (error as Error).message
  }
  return 'accepted'
}
