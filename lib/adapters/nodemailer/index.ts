/** `librechat-auth/nodemailer`: the SMTP mailer. Importing it loads nodemailer; the package face never does. */
export { smtpMailer } from './nodemailer-mailer.ts'
export { smtpOptionsFromEnv } from '../../env/smtp.ts'
export type { SmtpEncryption, SmtpMailerOptions } from '../../mail/smtp-options.ts'
