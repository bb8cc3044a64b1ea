export { startMailSim, type MailSim, type MailSimOptions, type FolderEntry } from './mailSim';
export { startDovecot, dovecotAvailable, DOVECOT_INSTALL_HINT, type DovecotServer, type DovecotOptions } from './dovecotServer';
export { startSmtpSim, type SmtpSim, type AcceptedMessage } from './smtpServer';
