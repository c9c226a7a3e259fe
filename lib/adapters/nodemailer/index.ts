/** `librechat-auth/nodemailer`: the SMTP mailer. Importing it loads nodemailer; the package face never does. */
export { smtpMailer } from './nodemailer-mailer.ts'
export { smtpOptionsFromEnv, type SmtpEncryption, type SmtpMailerOptions } from './options.ts'
