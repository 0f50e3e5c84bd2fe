# syntax=docker/dockerfile:1
# The lipizzaner command line (submit, status, results, sample, ...), used by the Helm chart's
# submit Job and test. Build from the repository root:
#   docker build -f containers/cli.Dockerfile \
#     --build-arg SDK_IMAGE=<.NET 10 SDK image> --build-arg RUNTIME_IMAGE=<ASP.NET Core 10 runtime image> \
#     -t lipizzaner/cli:0.1.0 .
ARG SDK_IMAGE
ARG RUNTIME_IMAGE

FROM ${SDK_IMAGE} AS build
WORKDIR /src
# .editorconfig sets the analyzer severities that the build enforces (EnforceCodeStyleInBuild).
COPY Directory.Build.props Directory.Build.targets Directory.Packages.props .editorconfig ./
COPY services/Lipizzaner.Core/Lipizzaner.Core.csproj services/Lipizzaner.Core/
COPY services/Lipizzaner.Cli/Lipizzaner.Cli.csproj services/Lipizzaner.Cli/
RUN dotnet restore services/Lipizzaner.Cli/Lipizzaner.Cli.csproj -r linux-x64 -p:TorchBackend=cpu
COPY build/torch-compat build/torch-compat
COPY services/Lipizzaner.Core services/Lipizzaner.Core
COPY services/Lipizzaner.Cli services/Lipizzaner.Cli
RUN dotnet publish services/Lipizzaner.Cli/Lipizzaner.Cli.csproj -c Release --no-restore \
      -r linux-x64 --self-contained false -p:TorchBackend=cpu -o /app --nologo

FROM ${RUNTIME_IMAGE} AS runtime
LABEL org.opencontainers.image.title="Lipizzaner CLI" \
      org.opencontainers.image.licenses="MIT"
WORKDIR /opt/lipizzaner/cli
COPY --from=build /app ./
RUN printf '#!/bin/sh\nexec dotnet /opt/lipizzaner/cli/lipizzaner.dll "$@"\n' > /usr/local/bin/lipizzaner \
    && chmod 0755 /usr/local/bin/lipizzaner
# Writable paths: /tmp and the cache (LIPIZZANER_CACHE), both volumes under a read-only root.
ENV TMPDIR=/tmp \
    LIPIZZANER_CACHE=/var/cache/lipizzaner \
    DOTNET_NOLOGO=1
USER 1654:1654
ENTRYPOINT ["lipizzaner"]
