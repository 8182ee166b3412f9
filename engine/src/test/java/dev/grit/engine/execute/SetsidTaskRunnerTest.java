package dev.grit.engine.execute;

/** Every test of {@link TaskRunnerTest}, with scripts started through {@code setsid}. */
class SetsidTaskRunnerTest extends TaskRunnerTest {
  @Override
  SessionLauncher launcher() {
    return SessionLauncher.SETSID;
  }
}
