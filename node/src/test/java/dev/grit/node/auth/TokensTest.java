package dev.grit.node.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TokensTest {
  @TempDir Path dir;

  @Test
  void aStoredHashFindsItsTokenAndRoleButNotOthers() throws IOException {
    String reader = Tokens.newToken();
    String admin = Tokens.newToken();
    assertNotEquals(reader, admin);
    assertTrue(reader.startsWith("grit_") && reader.length() > 40, reader);
    Tokens tokens =
        Tokens.of(
            "# API tokens\n\n"
                + Tokens.line(reader, Role.READ, "dashboards")
                + "\n"
                + Tokens.line(admin, Role.ADMIN, null)
                + "\n");
    assertEquals(Role.READ, tokens.find(reader).orElseThrow().role());
    assertEquals("dashboards", tokens.find(reader).orElseThrow().name());
    assertEquals(Role.ADMIN, tokens.find(admin).orElseThrow().role());
    assertTrue(tokens.find(Tokens.newToken()).isEmpty());
    assertTrue(tokens.find("").isEmpty());
    assertFalse(Tokens.line(reader, Role.READ, null).contains(reader), "the line holds no token");
  }

  @Test
  void rolesIncludeTheOnesBelow() {
    assertTrue(Role.ADMIN.includes(Role.SUBMIT) && Role.ADMIN.includes(Role.READ));
    assertTrue(Role.SUBMIT.includes(Role.READ) && !Role.SUBMIT.includes(Role.ADMIN));
    assertFalse(Role.READ.includes(Role.SUBMIT));
  }

  @Test
  void malformedLinesAreNamedByFileAndLine() throws IOException {
    Path file = dir.resolve("tokens");
    String token = Tokens.newToken();
    Files.writeString(file, Tokens.line(token, Role.READ, null) + "\n" + token + " admin\n");
    var e = assertThrows(IOException.class, () -> Tokens.load(file));
    assertTrue(e.getMessage().startsWith(file + ":2: "), e.getMessage());
    assertTrue(e.getMessage().contains("looks like a token itself"), e.getMessage());
    Files.writeString(file, Tokens.line(token, Role.READ, null).replace(" read", " root") + "\n");
    e = assertThrows(IOException.class, () -> Tokens.load(file));
    assertTrue(e.getMessage().contains(":1: 'root' is not a role"), e.getMessage());
    e = assertThrows(IOException.class, () -> Tokens.load(dir.resolve("absent")));
    assertTrue(e.getMessage().contains("grit token new"), e.getMessage());
  }

  @Test
  void aChangedFileIsReloadedAndABrokenOneKeepsTheTokensInUse() throws IOException {
    Path file = dir.resolve("tokens");
    String first = Tokens.newToken();
    String second = Tokens.newToken();
    Files.writeString(file, Tokens.line(first, Role.SUBMIT, null) + "\n");
    Tokens tokens = Tokens.load(file);
    assertFalse(tokens.reloadIfChanged());
    Files.writeString(file, Tokens.line(second, Role.SUBMIT, null) + "\n");
    assertTrue(tokens.reloadIfChanged());
    assertTrue(tokens.find(first).isEmpty(), "a removed token is revoked");
    assertTrue(tokens.find(second).isPresent());
    Files.writeString(file, "garbage\n");
    assertThrows(IOException.class, tokens::reloadIfChanged);
    assertTrue(tokens.find(second).isPresent());
  }
}
