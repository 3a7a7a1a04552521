//! TwiML responses (Twilio's `<Response>` XML) for the conversation loop: `<Say>` in the tenant's
//! voice, `<Gather input="speech">` posting to the next turn, `<Dial>` to escalate, `<Hangup>`.
//! Written by hand over `quick_xml`'s escaping: five verbs do not need a document model.

use quick_xml::escape::escape;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verb {
    Say {
        text: String,
        voice: String,
        language: String,
    },
    /// Listens for speech and posts it to `action`; `prompt` is said while listening.
    Gather {
        action: String,
        language: String,
        prompt: Option<Box<Verb>>,
    },
    Dial {
        number: String,
    },
    Hangup,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Response {
    pub verbs: Vec<Verb>,
}

impl Response {
    pub fn new() -> Response {
        Response::default()
    }

    pub fn say(mut self, text: &str, voice: &str, language: &str) -> Response {
        self.verbs.push(Verb::Say {
            text: text.to_owned(),
            voice: voice.to_owned(),
            language: language.to_owned(),
        });
        self
    }

    /// `<Gather>` wrapping a `<Say>` of `prompt`, so the caller can talk over it.
    pub fn gather(mut self, action: &str, prompt: Option<(&str, &str, &str)>, language: &str) -> Response {
        self.verbs.push(Verb::Gather {
            action: action.to_owned(),
            language: language.to_owned(),
            prompt: prompt.map(|(text, voice, language)| {
                Box::new(Verb::Say {
                    text: text.to_owned(),
                    voice: voice.to_owned(),
                    language: language.to_owned(),
                })
            }),
        });
        self
    }

    pub fn dial(mut self, number: &str) -> Response {
        self.verbs.push(Verb::Dial {
            number: number.to_owned(),
        });
        self
    }

    pub fn hangup(mut self) -> Response {
        self.verbs.push(Verb::Hangup);
        self
    }

    pub fn render(&self) -> String {
        let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response>\n");
        for verb in &self.verbs {
            render_verb(verb, 1, &mut out);
        }
        out.push_str("</Response>\n");
        out
    }
}

fn render_verb(verb: &Verb, depth: usize, out: &mut String) {
    let indent = "  ".repeat(depth);
    match verb {
        Verb::Say {
            text,
            voice,
            language,
        } => {
            out.push_str(&format!(
                "{indent}<Say voice=\"{}\" language=\"{}\">{}</Say>\n",
                escape(voice),
                escape(language),
                escape(text)
            ));
        }
        Verb::Gather {
            action,
            language,
            prompt,
        } => {
            let open = format!(
                "{indent}<Gather input=\"speech\" action=\"{}\" method=\"POST\" speechTimeout=\"auto\" language=\"{}\"",
                escape(action),
                escape(language)
            );
            match prompt {
                Some(inner) => {
                    out.push_str(&open);
                    out.push_str(">\n");
                    render_verb(inner, depth + 1, out);
                    out.push_str(&format!("{indent}</Gather>\n"));
                }
                None => {
                    out.push_str(&open);
                    out.push_str("/>\n");
                }
            }
        }
        Verb::Dial { number } => {
            out.push_str(&format!("{indent}<Dial>{}</Dial>\n", escape(number)));
        }
        Verb::Hangup => out.push_str(&format!("{indent}<Hangup/>\n")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_and_attributes_are_escaped() {
        let xml = Response::new()
            .gather(
                "/twilio/gather?turn=1&x=\"y\"",
                Some(("Joe's <Plumbing> & Heating", "Polly.Joanna", "en-US")),
                "en-US",
            )
            .dial("+18005550100")
            .hangup()
            .render();
        insta::assert_snapshot!(xml, @r#"
        <?xml version="1.0" encoding="UTF-8"?>
        <Response>
          <Gather input="speech" action="/twilio/gather?turn=1&amp;x=&quot;y&quot;" method="POST" speechTimeout="auto" language="en-US">
            <Say voice="Polly.Joanna" language="en-US">Joe&apos;s &lt;Plumbing&gt; &amp; Heating</Say>
          </Gather>
          <Dial>+18005550100</Dial>
          <Hangup/>
        </Response>
        "#);
    }
}
