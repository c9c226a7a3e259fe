import { memoryBanStore } from '../lib/adapters/memory/ban-store.ts'
import { memoryStorage } from '../lib/adapters/memory/storage.ts'
import { loadDriver } from '../lib/adapters/load-driver.ts'
import { openBanStore } from '../lib/adapters/open-ban-store.ts'
import { openStorage } from '../lib/adapters/open-storage.ts'
import type { CoreParts } from '../lib/core.ts'
import type { SmtpMailerOptions } from '../lib/mail/smtp-options.ts'
import { checkFunction, checkPort } from '../lib/options/parts.ts'
import type { AuthConfig, AuthOptions, BanStoreDescriptor, StorageDescriptor } from '../lib/options/types.ts'
import type { BanStore } from '../lib/ports/ban-store.ts'
import type { Mailer } from '../lib/ports/mailer.ts'
import type { Storage } from '../lib/ports/storage.ts'

/**
 * Checks the parts a host injects, before anything is opened: a storage, ban store, mailer or hasher
 * missing a method, or a claims hook that is not a function, fails registration naming the option.
 */
export function checkInjectedParts (options: AuthOptions): void {
  const { storage, banStore, mailer, hasher } = options
  if (storage !== undefined && !isDescriptor(storage)) checkPort(storage, 'storage')
  if (banStore !== undefined && !isDescriptor(banStore)) checkPort(banStore, 'banStore')
  if (mailer !== undefined && isMailer(mailer)) checkPort(mailer, 'mailer')
  if (hasher !== undefined) checkPort(hasher, 'hasher')
  checkFunction(options.accessTokenClaims, 'accessTokenClaims')
  checkFunction(options.now, 'now')
  checkFunction(options.wait, 'wait')
}

export type OpenedParts = Pick<CoreParts, 'storage' | 'bans' | 'banFallback' | 'mailer'> & { owns: NonNullable<CoreParts['owns']> }

/**
 * Opens what the options name. What the host passed in is the host's to close; what the plugin opened
 * (the default memory storage, a URL, SMTP settings) is the plugin's. Drivers load only when named.
 */
export async function openParts (options: AuthOptions, config: Pick<AuthConfig, 'databaseTimeout'>): Promise<OpenedParts> {
  // The mailer first: building it opens nothing, so a missing nodemailer leaves nothing open behind.
  const mailer = options.mailer === undefined ? null : isMailer(options.mailer) ? options.mailer : await smtpMailer(options.mailer)
  const ownsMailer = mailer !== null && !isMailer(options.mailer as Mailer | SmtpMailerOptions)
  const given = options.storage
  const ownsStorage = given === undefined || isDescriptor(given)
  let storage: Storage | null = null
  try {
    storage = given === undefined ? memoryStorage() : isDescriptor(given) ? await openStorage(given.url, { migrate: given.migrate ?? true, option: 'storage.url', timeoutMs: config.databaseTimeout }) : given
    await storage.init()
    const bans = await openBanStore(options.banStore, storage)
    return {
      storage,
      bans: bans.store,
      // A shared store (SQL, Redis) gets this instance's memory in front of it, for when it fails.
      ...(bans.store.kind === 'memory' ? {} : { banFallback: memoryBanStore() }),
      mailer,
      owns: { storage: ownsStorage, bans: bans.owned, mailer: ownsMailer }
    }
  } catch (error) {
    // A failed registration leaves nothing of ours open: no pool, no file handle, no SMTP connection.
    await Promise.allSettled([ownsStorage ? storage?.close() : null, ownsMailer ? mailer.close() : null])
    throw error
  }
}

/** The SMTP mailer these settings describe; nodemailer is loaded only now (not installed: a configuration error naming it). */
async function smtpMailer (settings: SmtpMailerOptions): Promise<Mailer> {
  return loadDriver('nodemailer', 'mailer', async () => (await import('../lib/adapters/nodemailer/index.ts')).smtpMailer(settings))
}

function isDescriptor (part: Storage | StorageDescriptor | BanStore | BanStoreDescriptor): part is StorageDescriptor | BanStoreDescriptor {
  return typeof part === 'object' && part !== null && typeof (part as { url?: unknown }).url === 'string'
}

function isMailer (mailer: Mailer | SmtpMailerOptions): mailer is Mailer {
  return typeof mailer === 'object' && mailer !== null && typeof (mailer as Mailer).send === 'function'
}
