package dev.workgate.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.workgate.spi.EventCodec;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.statistics.Statistics;

class EventCodecProperties {

  @Property(tries = 2000)
  void decode_of_encode_gives_the_same_event(@ForAll("events") WorkOrderEvent event) {
    Statistics.collect(event.type());
    EventCodec.EncodedEvent encoded = EventCodec.encode(event);

    assertThat(encoded.type()).isEqualTo(event.type().typeName());
    assertThat(encoded.schemaVersion()).isEqualTo(event.type().schemaVersion());
    assertThat(EventCodec.decode(encoded)).isEqualTo(event);
  }

  @Property(tries = 2000)
  void fromJson_of_toJson_gives_the_same_event(@ForAll("events") WorkOrderEvent event) {
    assertThat(EventCodec.fromJson(EventCodec.toJson(event))).isEqualTo(event);
  }

  @Property(tries = 500)
  void encoding_is_stable_after_one_round_trip(@ForAll("events") WorkOrderEvent event) {
    EventCodec.EncodedEvent once = EventCodec.encode(event);
    EventCodec.EncodedEvent twice = EventCodec.encode(EventCodec.decode(once));

    assertThat(twice).isEqualTo(once);
  }

  @Property(tries = 500)
  void a_spec_survives_the_codec_and_toBuilder(@ForAll("specs") WorkOrderSpec spec) {
    WorkOrderEvent.Submitted decoded =
        (WorkOrderEvent.Submitted)
            EventCodec.decode(EventCodec.encode(WorkOrderEvent.Submitted.of(spec)));

    assertThat(decoded.spec()).isEqualTo(spec).hasSameHashCodeAs(spec);
    assertThat(spec.toBuilder().build()).isEqualTo(spec);
  }

  @Provide
  Arbitrary<WorkOrderEvent> events() {
    return EventArbitraries.events();
  }

  @Provide
  Arbitrary<WorkOrderSpec> specs() {
    return EventArbitraries.specs();
  }
}
