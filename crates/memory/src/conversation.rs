//! A conversation as the memory API receives it: messages with a role and text. Roles follow
//! the chat-completions names as well as the call names (`user`/`caller`/`customer` for the
//! caller, `assistant`/`agent`/`receptionist` for our side).

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Caller,
    Agent,
}

impl Role {
    pub fn parse(role: &str) -> Option<Role> {
        match role.trim().to_ascii_lowercase().as_str() {
            "user" | "caller" | "customer" | "human" => Some(Role::Caller),
            "assistant" | "agent" | "receptionist" | "ai" | "bot" => Some(Role::Agent),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    pub role: String,
    pub content: String,
}

/// A checked conversation: every role known, something said.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Conversation {
    pub turns: Vec<(Role, String)>,
}

pub const MAX_MESSAGES: usize = 500;
pub const MAX_MESSAGE_CHARS: usize = 4000;

impl Conversation {
    /// Every problem of the messages, listed.
    pub fn parse(messages: &[Message]) -> Result<Conversation, Vec<String>> {
        let mut problems = Vec::new();
        if messages.is_empty() {
            problems.push("conversation_history is empty".to_owned());
        }
        if messages.len() > MAX_MESSAGES {
            problems.push(format!(
                "conversation_history has {} messages; at most {MAX_MESSAGES}",
                messages.len()
            ));
        }
        let mut turns = Vec::new();
        for (i, m) in messages.iter().enumerate().take(MAX_MESSAGES) {
            match Role::parse(&m.role) {
                Some(role) => turns.push((role, m.content.trim().to_owned())),
                None => problems.push(format!(
                    "conversation_history[{i}].role \"{}\" is not user/caller/customer or assistant/agent/receptionist",
                    m.role
                )),
            }
            if m.content.chars().count() > MAX_MESSAGE_CHARS {
                problems.push(format!(
                    "conversation_history[{i}].content has more than {MAX_MESSAGE_CHARS} characters"
                ));
            }
        }
        if problems.is_empty() && !turns.iter().any(|(_, text)| !text.is_empty()) {
            problems.push("conversation_history has no text".to_owned());
        }
        if problems.is_empty() {
            Ok(Conversation { turns })
        } else {
            Err(problems)
        }
    }

    /// What the caller said, in order, without empty lines.
    pub fn caller_lines(&self) -> Vec<&str> {
        self.lines(Role::Caller)
    }

    pub fn lines(&self, role: Role) -> Vec<&str> {
        self.turns
            .iter()
            .filter(|(r, text)| *r == role && !text.is_empty())
            .map(|(_, text)| text.as_str())
            .collect()
    }
}

/// Sentences of a line (split after `.`, `?`, `!`), trimmed, without empty ones.
pub fn sentences(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, c) in text.char_indices() {
        if matches!(c, '.' | '?' | '!') {
            let s = text[start..=i].trim();
            if s.chars().any(char::is_alphanumeric) {
                out.push(s);
            }
            start = i + c.len_utf8();
        }
    }
    let rest = text[start..].trim();
    if rest.chars().any(char::is_alphanumeric) {
        out.push(rest);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(role: &str, content: &str) -> Message {
        Message {
            role: role.into(),
            content: content.into(),
        }
    }

    #[test]
    fn roles_are_mapped_and_unknown_ones_listed() {
        let c = Conversation::parse(&[m("user", "Hi."), m("assistant", "Hello!")]).unwrap();
        assert_eq!(c.caller_lines(), vec!["Hi."]);
        let problems = Conversation::parse(&[m("robot", "x"), m("user", "")]).unwrap_err();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].contains("robot"));
        assert!(Conversation::parse(&[]).is_err());
        assert!(Conversation::parse(&[m("user", "  ")]).is_err());
    }

    #[test]
    fn sentences_split_on_terminal_punctuation() {
        assert_eq!(
            sentences("My name is Ann. I live in Irvine! OK"),
            vec!["My name is Ann.", "I live in Irvine!", "OK"]
        );
        assert!(sentences(" ... ").is_empty());
    }
}
