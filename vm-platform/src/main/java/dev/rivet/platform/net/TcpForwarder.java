package dev.rivet.platform.net;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;

import java.net.InetSocketAddress;

/**
 * A TCP port forward ({@code hostfwd=tcp:...}): a host listener whose accepted connections
 * become connections into the guest (see {@link TcpNat#acceptForwarded}). Closing the
 * forward stops listening; connections already made run on, as in QEMU.
 */
final class TcpForwarder implements Forwarder {
    private final HostForward spec;
    private final EventLoop loop;
    private final TcpNat nat;
    private Channel server;

    TcpForwarder(HostForward spec, EventLoop loop, TcpNat nat) {
        this.spec = spec;
        this.loop = loop;
        this.nat = nat;
    }

    @Override
    public HostForward spec() {
        return spec;
    }

    @Override
    public ChannelFuture bind() {
        ChannelFuture f = new ServerBootstrap().group(loop).channel(NioServerSocketChannel.class)
                .childOption(ChannelOption.AUTO_READ, false)
                .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        nat.acceptForwarded(ch, spec);
                    }
                })
                .bind(spec.hostSocketAddress());
        server = f.channel();
        return f;
    }

    @Override
    public InetSocketAddress localAddress() {
        return (InetSocketAddress) server.localAddress();
    }

    @Override
    public void close() {
        if (server != null) {
            server.close();
        }
    }
}
