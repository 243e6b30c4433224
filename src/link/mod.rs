//! `Link`: an attachment of a program to a hook.
