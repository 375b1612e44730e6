package dev.switchboard.standalone;

import org.junit.jupiter.api.Test;
import org.springframework.context.support.GenericApplicationContext;
import org.springframework.http.client.ReactorResourceFactory;

import static org.assertj.core.api.Assertions.assertThat;

class SharedJvmTests {

    @Test
    void givesEachServiceReactorResourcesOfItsOwn() {
        try (GenericApplicationContext context = new GenericApplicationContext()) {
            new SharedJvm.OwnReactorResources().initialize(context);
            context.refresh();

            ReactorResourceFactory factory = context.getBean(ReactorResourceFactory.class);
            assertThat(factory.isUseGlobalResources()).isFalse();
            assertThat(factory.getLoopResources()).isNotSameAs(reactor.netty.http.HttpResources.get());
        }
    }
}
