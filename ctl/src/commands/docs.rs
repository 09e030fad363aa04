//! Invoked when calling `exsyncctl completions SHELL` and `exsyncctl man`.
//!
//! Both are generated from the command-line definition itself (clap), so they never drift
//! from what `exsyncctl` accepts. Packagers write them to files at build time:
//! `exsyncctl completions bash > exsyncctl.bash`, `exsyncctl man > exsyncctl.1`.

use std::io::Write;

use clap_complete::Shell;

use super::Failure;
use crate::Exit;

#[derive(clap::Args, Debug)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: Shell,
}

pub fn completions(mut cli: clap::Command, args: &CompletionsArgs) -> Result<Exit, Failure> {
    let mut out = Vec::new();
    clap_complete::generate(args.shell, &mut cli, "exsyncctl", &mut out);
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(&out)?;
    stdout.flush()?;
    Ok(Exit::Ok)
}

/// The manual page: the command's own page, then one section per subcommand with its
/// options, in one roff document.
pub fn man(cli: clap::Command) -> Result<Exit, Failure> {
    let mut out = std::io::stdout().lock();
    out.write_all(&render_man(cli)?)?;
    out.flush()?;
    Ok(Exit::Ok)
}

fn render_man(cli: clap::Command) -> Result<Vec<u8>, Failure> {
    let mut cli = cli;
    cli.build();
    let mut page = Vec::new();
    let man = clap_mangen::Man::new(cli.clone());
    man.render_title(&mut page)?;
    man.render_name_section(&mut page)?;
    man.render_synopsis_section(&mut page)?;
    man.render_description_section(&mut page)?;
    man.render_options_section(&mut page)?;
    man.render_subcommands_section(&mut page)?;
    // Each verb's own options, under a heading of its name.
    page.extend_from_slice(b".SH \"COMMAND OPTIONS\"\n");
    for sub in cli.get_subcommands().filter(|s| !s.is_hide_set()) {
        let args: Vec<&clap::Arg> = sub
            .get_arguments()
            .filter(|a| !a.is_hide_set() && !a.is_global_set())
            .collect();
        page.extend_from_slice(format!(".SS \"exsyncctl {}\"\n", sub.get_name()).as_bytes());
        if let Some(about) = sub.get_about() {
            page.extend_from_slice(format!("{}\n", roff_escape(&about.to_string())).as_bytes());
        }
        for arg in args {
            let name = match (arg.get_long(), arg.get_short()) {
                (Some(l), _) => format!("\\-\\-{l}"),
                (None, Some(s)) => format!("\\-{s}"),
                (None, None) => arg
                    .get_value_names()
                    .and_then(|v| v.first())
                    .map(|v| v.to_string())
                    .unwrap_or_else(|| arg.get_id().to_string().to_uppercase()),
            };
            let help = arg.get_help().map(|h| h.to_string()).unwrap_or_default();
            page.extend_from_slice(
                format!(".TP\n\\fB{name}\\fR\n{}\n", roff_escape(&help)).as_bytes(),
            );
        }
    }
    page.extend_from_slice(
        b".SH \"EXIT STATUS\"\n0 ok, 1 the operation failed, 2 usage error, 3 daemon unreachable.\n\
          .SH ENVIRONMENT\n.TP\n\\fBEXSYNC_SOCKET\\fR\nThe daemon's control socket (like \\-\\-socket).\n\
          .TP\n\\fBNO_COLOR\\fR\nexsyncctl never colours its output; progress bars are drawn only on a terminal.\n\
          .SH \"SEE ALSO\"\n\\fBexsyncd\\fR(8)\n",
    );
    Ok(page)
}

/// Text safe in a roff paragraph: backslashes and leading dots or quotes escaped.
fn roff_escape(text: &str) -> String {
    text.lines()
        .map(|l| {
            let l = l.replace('\\', "\\e").replace('-', "\\-");
            if l.starts_with('.') || l.starts_with('\'') {
                format!("\\&{l}")
            } else {
                l
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn man_page_lists_every_verb_and_its_options() {
        let page = String::from_utf8(render_man(crate::Cli::command()).unwrap()).unwrap();
        assert!(page.starts_with(".ie \\n(.g .ds Aq \\(aq") || page.contains(".TH exsyncctl"));
        for verb in crate::Cli::command().get_subcommands() {
            let heading = format!(".SS \"exsyncctl {}\"", verb.get_name());
            assert!(page.contains(&heading), "{heading} missing");
        }
        assert!(
            page.contains("\\fB\\-\\-wait\\fR"),
            "sync --wait documented"
        );
        assert!(page.contains("EXIT STATUS"));
    }

    #[test]
    fn completions_know_the_verbs() {
        let mut out = Vec::new();
        clap_complete::generate(
            Shell::Bash,
            &mut crate::Cli::command(),
            "exsyncctl",
            &mut out,
        );
        let script = String::from_utf8(out).unwrap();
        for verb in [
            "status", "sync", "records", "coverage", "reload", "validate",
        ] {
            assert!(script.contains(verb), "{verb}");
        }
    }
}
