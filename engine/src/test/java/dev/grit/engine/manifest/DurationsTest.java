package dev.grit.engine.manifest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class DurationsTest {
  @ParameterizedTest
  @CsvSource({
    "500ms, 500",
    "10s, 10000",
    "5m, 300000",
    "2h, 7200000",
    "1m30s, 90000",
    "1h2m3s4ms, 3723004",
    "0s, 0",
    "0ms, 0",
    "007s, 7000",
    "8760h, 31536000000",
  })
  void parses(String text, long millis) {
    assertEquals(Duration.ofMillis(millis), Durations.parse(text));
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "",
        "10",
        "1.5s",
        "s",
        "1d",
        "10 s",
        " 10s",
        "10s ",
        "1s1m",
        "1s1s",
        "1m1h",
        "-1s",
        "1S",
        "8761h",
        "525601m",
        "99999999999999999999s",
        "1h8760h"
      })
  void refuses(String text) {
    assertThrows(IllegalArgumentException.class, () -> Durations.parse(text));
  }

  @ParameterizedTest
  @CsvSource({"0, 0s", "1, 1s", "90, 1m30s", "3600, 1h", "86400, 24h"})
  void formatsWholeSeconds(long seconds, String text) {
    assertEquals(text, Durations.format(Duration.ofSeconds(seconds)));
    assertEquals(Duration.ofSeconds(seconds), Durations.ofSeconds(seconds));
  }

  @ParameterizedTest
  @ValueSource(strings = {"500ms", "1s1ms", "1h1m1s1ms", "59m59s999ms", "8760h"})
  void formatReadsBackAsTheSameText(String text) {
    assertEquals(text, Durations.format(Durations.parse(text)));
  }

  @ParameterizedTest
  @ValueSource(longs = {-1, 31_536_001})
  void wholeSecondsOutOfRangeAreRefused(long seconds) {
    assertThrows(IllegalArgumentException.class, () -> Durations.ofSeconds(seconds));
  }
}
