package dev.switchboard.standalone;

import org.junit.jupiter.api.Test;
import org.springframework.boot.r2dbc.autoconfigure.ConnectionFactoryOptionsBuilderCustomizer;
import org.springframework.context.support.GenericApplicationContext;
import org.springframework.http.client.ReactorResourceFactory;
import reactor.netty.resources.LoopResources;

import io.r2dbc.postgresql.PostgresqlConnectionFactoryProvider;
import io.r2dbc.spi.ConnectionFactoryOptions;

import static org.assertj.core.api.Assertions.assertThat;

class SharedJvmTests {

    @Test
    void putsEveryServiceOnTheSameLoopsWithAConnectionPoolOfItsOwn() {
        LoopResources loops = SharedJvm.newLoops();
        try (GenericApplicationContext first = context(loops); GenericApplicationContext second = context(loops)) {
            ReactorResourceFactory one = first.getBean(ReactorResourceFactory.class);
            ReactorResourceFactory other = second.getBean(ReactorResourceFactory.class);
            assertThat(one.isUseGlobalResources()).isFalse();
            assertThat(one.getLoopResources()).isSameAs(loops).isNotSameAs(reactor.netty.http.HttpResources.get());
            assertThat(other.getLoopResources()).isSameAs(loops);
            assertThat(one.getConnectionProvider()).isNotSameAs(other.getConnectionProvider());

            ConnectionFactoryOptions.Builder options = ConnectionFactoryOptions.builder();
            first.getBean(ConnectionFactoryOptionsBuilderCustomizer.class).customize(options);
            assertThat(options.build().getValue(PostgresqlConnectionFactoryProvider.LOOP_RESOURCES)).isSameAs(loops);

            first.close();
            // a closed service leaves the loops to the others
            assertThat(loops.isDisposed()).isFalse();
        } finally {
            loops.dispose();
        }
    }

    private static GenericApplicationContext context(LoopResources loops) {
        GenericApplicationContext context = new GenericApplicationContext();
        new SharedJvm.SharedLoops(loops).initialize(context);
        context.refresh();
        return context;
    }
}
