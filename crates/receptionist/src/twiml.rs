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
    pub fn gather(
        mut self,
        action: &str,
        prompt: Option<(&str, &str, &str)>,
        language: &str,
    ) -> Response {
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

/// Parses the TwiML this module writes (for the call simulator and tests): the verbs in order,
/// a `<Gather>`'s inner `<Say>` as its prompt. Unknown elements are skipped.
pub fn parse(xml: &str) -> Result<Response, String> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut verbs = Vec::new();
    let mut gather: Option<Verb> = None;
    let mut open: Option<(String, Vec<(String, String)>)> = None;
    let mut text = String::new();
    let attrs = |e: &quick_xml::events::BytesStart<'_>| -> Result<Vec<(String, String)>, String> {
        e.attributes()
            .map(|a| {
                let a = a.map_err(|e| e.to_string())?;
                let value = a.unescape_value().map_err(|e| e.to_string())?.into_owned();
                Ok((String::from_utf8_lossy(a.key.as_ref()).into_owned(), value))
            })
            .collect()
    };
    let attr = |list: &[(String, String)], name: &str| {
        list.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    loop {
        match reader.read_event().map_err(|e| e.to_string())? {
            Event::Start(e) => {
                let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                let list = attrs(&e)?;
                if name == "Gather" {
                    gather = Some(Verb::Gather {
                        action: attr(&list, "action"),
                        language: attr(&list, "language"),
                        prompt: None,
                    });
                } else {
                    open = Some((name, list));
                    text.clear();
                }
            }
            Event::Empty(e) => {
                let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                let list = attrs(&e)?;
                match name.as_str() {
                    "Hangup" => verbs.push(Verb::Hangup),
                    "Gather" => verbs.push(Verb::Gather {
                        action: attr(&list, "action"),
                        language: attr(&list, "language"),
                        prompt: None,
                    }),
                    _ => {}
                }
            }
            Event::Text(t) => {
                text.push_str(&t.decode().map_err(|e| e.to_string())?);
            }
            Event::GeneralRef(r) => {
                let name = r.decode().map_err(|e| e.to_string())?;
                let resolved = quick_xml::escape::resolve_xml_entity(&name)
                    .ok_or_else(|| format!("unknown entity &{name};"))?;
                text.push_str(resolved);
            }
            Event::End(e) => {
                let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                if name == "Gather" {
                    verbs.extend(gather.take());
                    continue;
                }
                let Some((opened, list)) = open.take() else {
                    continue;
                };
                let verb = match opened.as_str() {
                    "Say" => Verb::Say {
                        text: text.trim().to_owned(),
                        voice: attr(&list, "voice"),
                        language: attr(&list, "language"),
                    },
                    "Dial" => Verb::Dial {
                        number: text.trim().to_owned(),
                    },
                    _ => continue,
                };
                match &mut gather {
                    Some(Verb::Gather { prompt, .. }) => *prompt = Some(Box::new(verb)),
                    _ => verbs.push(verb),
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(Response { verbs })
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
        let parsed = parse(&xml).unwrap();
        assert_eq!(parsed.verbs.len(), 3);
        match &parsed.verbs[0] {
            Verb::Gather { action, prompt, .. } => {
                assert_eq!(action, "/twilio/gather?turn=1&x=\"y\"");
                assert!(
                    matches!(prompt.as_deref(), Some(Verb::Say { text, .. }) if text == "Joe's <Plumbing> & Heating")
                );
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            parsed.verbs[1],
            Verb::Dial {
                number: "+18005550100".into()
            }
        );
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
