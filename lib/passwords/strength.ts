import { ZxcvbnFactory } from '@zxcvbn-ts/core'
import * as common from '@zxcvbn-ts/language-common'
import * as english from '@zxcvbn-ts/language-en'

/**
 * Only this many characters are analysed. The estimator runs on the event loop and its cost grows fast
 * with length (about 44 ms at 16 characters, 390 ms at 128); 32 characters that are not weak make a
 * password whose length alone already defeats guessing.
 */
const ANALYSED = 32
/** zxcvbn's scores 0 and 1: guessable within about a million guesses. */
const WEAK_BELOW = 2

let estimator: ZxcvbnFactory | null = null

/**
 * True when a password is easy to guess: common words, keyboard walks, repeats, dates, sequences, or
 * the given user inputs (the user's own name, email, ...), as @zxcvbn-ts estimates it with its common
 * and English dictionaries. The dictionaries are loaded on first use.
 */
export function isGuessable (password: string, userInputs: readonly string[]): boolean {
  estimator ??= new ZxcvbnFactory({
    dictionary: { ...common.dictionary, ...english.dictionary },
    graphs: common.adjacencyGraphs,
    translations: english.translations
  })
  return estimator.check([...password].slice(0, ANALYSED).join(''), [...userInputs]).score < WEAK_BELOW
}
