package dev.grit.discovery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import javax.jmdns.ServiceInfo;
import org.junit.jupiter.api.Test;

class MdnsRecordTest {
  private final PeerAddress self = new PeerAddress("node.1", "10.0.0.7", 9870);

  @Test
  void aNodesPropertiesReadBackAsTheSamePeer() {
    var info = info(MdnsRecord.properties("prod", self));
    assertTrue(MdnsRecord.complete(info));
    assertEquals(Optional.of(self), MdnsRecord.peer(info, "prod"));
  }

  @Test
  void anotherClustersNodeIsNoPeer() {
    assertEquals(Optional.empty(), MdnsRecord.peer(info(MdnsRecord.properties("staging", self)), "prod"));
  }

  @Test
  void aRecordWithoutAllPropertiesIsIncomplete() {
    var props = new HashMap<>(MdnsRecord.properties("prod", self));
    props.remove(MdnsRecord.HOST);
    assertFalse(MdnsRecord.complete(info(props)));
    assertFalse(MdnsRecord.complete(null));
  }

  @Test
  void aMalformedRecordIsRejected() {
    var props = new HashMap<>(MdnsRecord.properties("prod", self));
    props.put(MdnsRecord.RAFT_PORT, "ninety");
    assertThrows(IllegalArgumentException.class, () -> MdnsRecord.peer(info(props), "prod"));
    props.put(MdnsRecord.RAFT_PORT, "0");
    assertThrows(IllegalArgumentException.class, () -> MdnsRecord.peer(info(props), "prod"));
  }

  @Test
  void instanceNamesHaveNoDotsAndFitADnsLabel() {
    assertEquals("prod-node-1", MdnsRecord.instanceName("prod", "node.1"));
    assertEquals(63, MdnsRecord.instanceName("c".repeat(63), "n".repeat(63)).length());
  }

  private static ServiceInfo info(Map<String, String> props) {
    return ServiceInfo.create(MdnsDiscovery.SERVICE_TYPE, "x", 9870, 0, 0, props);
  }
}
