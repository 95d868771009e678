//! Staff duty schedules (排班): the weekdays and hours when a staff member's entrance access
//! holds. Written as windows separated by `;`, each `DAYS HH:MM-HH:MM`, where DAYS lists ISO
//! weekdays (1 = Monday … 7 = Sunday) as ranges and single days: `1-5 07:00-19:00`,
//! `6,7 09:00-17:00`, `1-7 19:00-07:00`. A window whose end is not after its start runs
//! overnight: the hours after midnight belong to the shift that started the evening before.

use crate::DomainError;
use chrono::{Datelike, NaiveDateTime, Timelike};
use std::fmt;

fn schedule_error(message: impl Into<String>) -> DomainError {
    DomainError::new("invalid_schedule", message)
}

/// One window: days of the week (bit 0 = Monday) and minutes of the day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Window {
    days: u8,
    start: u16,
    end: u16,
}

/// A validated schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    windows: Vec<Window>,
}

pub(crate) fn parse_days(text: &str) -> Result<u8, DomainError> {
    let mut days = 0u8;
    for part in text.split(',') {
        let (from, to) = match part.split_once('-') {
            Some((a, b)) => (a, b),
            None => (part, part),
        };
        let day = |d: &str| match d.trim().parse::<u8>() {
            Ok(n @ 1..=7) => Ok(n),
            _ => Err(schedule_error(format!(
                "'{d}' is not a weekday (1 = Monday … 7 = Sunday)"
            ))),
        };
        let (from, to) = (day(from)?, day(to)?);
        if from > to {
            return Err(schedule_error(format!("days {from}-{to} run backwards")));
        }
        for d in from..=to {
            days |= 1 << (d - 1);
        }
    }
    Ok(days)
}

pub(crate) fn parse_minute(text: &str) -> Result<u16, DomainError> {
    let bad = || schedule_error(format!("'{text}' is not a time of day (HH:MM)"));
    let (h, m) = text.trim().split_once(':').ok_or_else(bad)?;
    let (h, m): (u16, u16) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    if h > 24 || m > 59 || (h == 24 && m != 0) {
        return Err(bad());
    }
    Ok(h * 60 + m)
}

impl Schedule {
    /// Parses a schedule; full-width punctuation (`；`, `，`, `：`) is accepted.
    pub fn parse(raw: &str) -> Result<Schedule, DomainError> {
        let text = raw.replace('；', ";").replace('，', ",").replace('：', ":");
        let mut windows = Vec::new();
        for part in text.split(';').map(str::trim).filter(|p| !p.is_empty()) {
            let (days, hours) = part
                .split_once(char::is_whitespace)
                .ok_or_else(|| schedule_error(format!("'{part}' is not 'DAYS HH:MM-HH:MM'")))?;
            let (start, end) = hours
                .trim()
                .split_once('-')
                .ok_or_else(|| schedule_error(format!("'{hours}' is not 'HH:MM-HH:MM'")))?;
            let window = Window {
                days: parse_days(days)?,
                start: parse_minute(start)?,
                end: parse_minute(end)?,
            };
            if window.start == window.end {
                return Err(schedule_error(format!("'{part}' is empty")));
            }
            windows.push(window);
        }
        if windows.is_empty() {
            return Err(schedule_error("a schedule needs at least one window"));
        }
        Ok(Schedule { windows })
    }

    /// Whether the schedule holds at this local (UTC+8) time.
    pub fn covers(&self, at: NaiveDateTime) -> bool {
        let day = at.weekday().num_days_from_monday();
        let yesterday = (day + 6) % 7;
        let minute = (at.hour() * 60 + at.minute()) as u16;
        self.windows.iter().any(|w| {
            let on = |d: u32| w.days & (1 << d) != 0;
            if w.start < w.end {
                on(day) && (w.start..w.end).contains(&minute)
            } else {
                (on(day) && minute >= w.start) || (on(yesterday) && minute < w.end)
            }
        })
    }
}

impl fmt::Display for Schedule {
    /// The canonical form: `1-5 07:00-19:00;6,7 09:00-17:00`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, w) in self.windows.iter().enumerate() {
            if i > 0 {
                f.write_str(";")?;
            }
            let mut runs = Vec::new();
            let mut d = 0;
            while d < 7 {
                if w.days & (1 << d) != 0 {
                    let start = d;
                    while d + 1 < 7 && w.days & (1 << (d + 1)) != 0 {
                        d += 1;
                    }
                    runs.push(if start == d {
                        format!("{}", start + 1)
                    } else {
                        format!("{}-{}", start + 1, d + 1)
                    });
                }
                d += 1;
            }
            write!(
                f,
                "{} {:02}:{:02}-{:02}:{:02}",
                runs.join(","),
                w.start / 60,
                w.start % 60,
                w.end / 60,
                w.end % 60
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
    }

    #[test]
    fn weekday_hours() {
        let s = Schedule::parse("1-5 07:00-19:00").unwrap();
        // 2026-11-23 is a Monday.
        assert!(s.covers(at("2026-11-23 07:00")));
        assert!(s.covers(at("2026-11-27 18:59")));
        assert!(!s.covers(at("2026-11-23 19:00")), "end is exclusive");
        assert!(!s.covers(at("2026-11-28 10:00")), "Saturday");
        assert!(!s.covers(at("2026-11-23 06:59")));
    }

    #[test]
    fn overnight_shifts_belong_to_the_evening_they_start() {
        let s = Schedule::parse("5 19:00-07:00").unwrap();
        assert!(s.covers(at("2026-11-27 23:00")), "Friday night");
        assert!(s.covers(at("2026-11-28 06:30")), "Saturday morning, same shift");
        assert!(
            !s.covers(at("2026-11-27 06:30")),
            "Friday morning is Thursday's shift"
        );
        assert!(!s.covers(at("2026-11-28 19:30")));
        // Sunday's night shift runs into Monday.
        let sunday = Schedule::parse("7 22:00-06:00").unwrap();
        assert!(sunday.covers(at("2026-11-23 05:00")));
    }

    #[test]
    fn parses_lists_full_width_and_round_trips() {
        let s = Schedule::parse("1，3，5 08:00-12:00； 6-7 09：00-17:00").unwrap();
        assert_eq!(s.to_string(), "1,3,5 08:00-12:00;6-7 09:00-17:00");
        assert_eq!(Schedule::parse(&s.to_string()).unwrap(), s);
        assert_eq!(
            Schedule::parse("1-7 00:00-24:00").unwrap().to_string(),
            "1-7 00:00-24:00"
        );
        for bad in [
            "",
            "8 07:00-19:00",
            "5-1 07:00-19:00",
            "1-5 7-19",
            "1-5 25:00-26:00",
            "1-5 07:00-07:00",
            "weekdays",
        ] {
            assert_eq!(
                Schedule::parse(bad).unwrap_err().code,
                "invalid_schedule",
                "{bad}"
            );
        }
    }
}
