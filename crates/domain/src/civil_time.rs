//! Civil dates and the time of France's mainland (Europe/Paris), for the person's pages: the hub
//! keeps UTC seconds; people read their local time. France follows the European Union's summer
//! time (Directive 2000/84/EC, the rule since 1996): UTC+2 from the last Sunday of March at
//! 01:00 UTC to the last Sunday of October at 01:00 UTC, UTC+1 otherwise. Computed here rather
//! than read from a time-zone database, so the pages need no file of the machine's; if the EU
//! ends seasonal changes, this is the one place to change.

use crate::clock::UnixTime;

/// The civil date (year, month, day) of a day counted from 1970-01-01 (Howard Hinnant's
/// algorithm, exact for the proleptic Gregorian calendar).
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era = (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * month_index + 2) / 5 + 1) as u32;
    let month = if month_index < 10 { month_index + 3 } else { month_index - 9 } as u32;
    (year_of_era + era * 400 + i64::from(month <= 2), month, day)
}

/// The day, counted from 1970-01-01, of a civil date (the inverse of [`civil_from_days`]).
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year.rem_euclid(400);
    let month = i64::from(month);
    let day_of_year = (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The day of the last Sunday of `month` in `year`.
fn last_sunday(year: i64, month: u32) -> i64 {
    let last = days_from_civil(year, month, 31);
    // 1970-01-01 was a Thursday: day 0 is weekday 4 (Sunday 0).
    let weekday = (last + 4).rem_euclid(7);
    last - weekday
}

/// The offset of Europe/Paris from UTC at `time`, seconds.
pub fn paris_offset(time: UnixTime) -> i64 {
    let seconds = time.0 as i64;
    let (year, _, _) = civil_from_days(seconds.div_euclid(86_400));
    let summer_from = last_sunday(year, 3) * 86_400 + 3_600;
    let summer_until = last_sunday(year, 10) * 86_400 + 3_600;
    if (summer_from..summer_until).contains(&seconds) {
        7_200
    } else {
        3_600
    }
}

/// A local time of Europe/Paris: its civil date and time, and its offset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParisTime {
    /// Year.
    pub year: i64,
    /// Month, 1 to 12.
    pub month: u32,
    /// Day, 1 to 31.
    pub day: u32,
    /// Hour, 0 to 23.
    pub hour: u32,
    /// Minute, 0 to 59.
    pub minute: u32,
    /// Offset from UTC, seconds.
    pub offset: i64,
}

impl ParisTime {
    /// The local time of `time`.
    pub fn of(time: UnixTime) -> Self {
        let offset = paris_offset(time);
        let local = time.0 as i64 + offset;
        let (year, month, day) = civil_from_days(local.div_euclid(86_400));
        let minutes = local.rem_euclid(86_400) / 60;
        Self { year, month, day, hour: (minutes / 60) as u32, minute: (minutes % 60) as u32, offset }
    }

    /// RFC 3339 with its offset, for `<time datetime="…">`: `2026-12-01T17:43:00+01:00`.
    pub fn rfc3339(&self) -> String {
        let hours = self.offset / 3_600;
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:00+{hours:02}:00",
            self.year, self.month, self.day, self.hour, self.minute
        )
    }
}

/// The end of the Paris day `date` (`YYYY-MM-DD`): when a habilitation valid until that day
/// ends.
pub fn end_of_paris_day(date: &str) -> Option<UnixTime> {
    let mut parts = date.split('-');
    let (year, month, day) = (parts.next()?.parse().ok()?, parts.next()?.parse().ok()?, parts.next()?.parse().ok()?);
    if parts.next().is_some() || !(1..=12).contains(&month) || !(1..=31).contains(&day) || date.len() != 10 {
        return None;
    }
    let days = days_from_civil(year, month, day);
    if civil_from_days(days) != (year, month, day) {
        return None;
    }
    let midnight_utc = (days + 1) * 86_400;
    let at = midnight_utc - paris_offset(UnixTime(midnight_utc.max(0) as u64));
    u64::try_from(at).ok().map(UnixTime)
}

/// RFC 3339 in UTC, to the second: `2026-12-01T16:43:05Z`.
pub fn rfc3339_utc(time: UnixTime) -> String {
    let seconds = time.0 as i64;
    let (year, month, day) = civil_from_days(seconds.div_euclid(86_400));
    let of_day = seconds.rem_euclid(86_400);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z", of_day / 3_600, of_day % 3_600 / 60, of_day % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates_round_trip() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        for day in [-1_000, 0, 10_957, 20_788, 30_000] {
            let (y, m, d) = civil_from_days(day);
            assert_eq!(days_from_civil(y, m, d), day);
        }
    }

    #[test]
    fn paris_changes_hour_on_the_last_sundays_of_march_and_october_at_one_utc() {
        // 2026: 29 March and 25 October.
        let at = |y, m, d, h: i64| UnixTime((days_from_civil(y, m, d) * 86_400 + h * 3_600) as u64);
        assert_eq!(paris_offset(at(2026, 3, 29, 0)), 3_600);
        assert_eq!(paris_offset(at(2026, 3, 29, 1)), 7_200);
        assert_eq!(paris_offset(at(2026, 10, 25, 0)), 7_200);
        assert_eq!(paris_offset(at(2026, 10, 25, 1)), 3_600);
        assert_eq!(paris_offset(at(2026, 12, 1, 16)), 3_600);
        let winter = ParisTime::of(at(2026, 12, 1, 16));
        assert_eq!((winter.day, winter.hour, winter.rfc3339().as_str()), (1, 17, "2026-12-01T17:00:00+01:00"));
        let summer = ParisTime::of(at(2026, 7, 14, 22));
        assert_eq!((summer.day, summer.hour, summer.rfc3339().as_str()), (15, 0, "2026-07-15T00:00:00+02:00"));
    }

    #[test]
    fn a_habilitation_ends_at_midnight_in_paris() {
        // 2027-12-31 ends at 2028-01-01T00:00+01:00, 23:00 UTC.
        assert_eq!(end_of_paris_day("2027-12-31"), Some(UnixTime(1_830_294_000)));
        // In summer, at 22:00 UTC.
        assert_eq!(end_of_paris_day("2027-06-30"), Some(UnixTime(1_814_392_800)));
        for bad in ["2027-02-30", "2027-13-01", "31/12/2027", "2027-1-1", ""] {
            assert_eq!(end_of_paris_day(bad), None, "{bad}");
        }
    }
}
