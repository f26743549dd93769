"""The partner registry: clear errors at load time, naming the file."""
import pytest

from pipeline.errors import ConfigError
from pipeline.registry import load_source, load_sources


def write(folder, name, text):
    path = folder / name
    path.write_text(text, "utf-8")
    return path


def test_minimal_source(tmp_path):
    src = load_source(write(tmp_path, "harbor.toml", 'name = "Harbor"\nhomepage = "https://harbor.example/"\n'))
    assert (src.id, src.name, src.homepage, src.feeds, src.sitemap) == ("harbor", "Harbor", "https://harbor.example/", (), None)


def test_optional_keys(tmp_path):
    src = load_source(write(tmp_path, "a.toml", 'name = "A"\nhomepage = "https://a.example/"\n'
                            'feeds = ["https://a.example/feed/"]\nsitemap = "https://a.example/sm.xml"\n'
                            'aliases = ["A Center"]\n[selectors]\ncontent = "article .body"\n'))
    assert src.feeds == ("https://a.example/feed/",)
    assert src.sitemap == "https://a.example/sm.xml"
    assert src.selectors == (("content", "article .body"),)
    assert src.aliases == ("A Center",)


@pytest.mark.parametrize("text, message", [
    ('name = "A"\n', "missing required key 'homepage'"),
    ('homepage = "https://a.example/"\n', "missing required key 'name'"),
    ('name = "A"\nhomepage = "https://a.example/"\nfeed = "x"\n', "unknown key(s) feed"),
    ('name = "A"\nhomepage = "not a url"\n', "not an http(s) URL"),
    ('name = "A"\nhomepage = "ftp://a.example/"\n', "not an http(s) URL"),
    ('name = "A"\nhomepage = "https://a.example/"\nfeeds = ["javascript:alert(1)"]\n', "not an http(s) URL"),
    ('name = "A"\nhomepage = ', "not valid TOML"),
    ('name = "A"\nhomepage = "${NO_SUCH_VARIABLE_HERE}/a/"\n', "NO_SUCH_VARIABLE_HERE"),
])
def test_bad_files_name_the_file(tmp_path, text, message):
    path = write(tmp_path, "bad.toml", text)
    with pytest.raises(ConfigError) as e:
        load_source(path)
    assert message in str(e.value)
    assert str(path) in str(e.value)


def test_environment_expansion(tmp_path, monkeypatch):
    monkeypatch.setenv("PARTNER_BASE", "http://127.0.0.1:8000/")
    src = load_source(write(tmp_path, "x.toml", 'name = "X"\nhomepage = "${PARTNER_BASE}/x/"\n'))
    assert src.homepage == "http://127.0.0.1:8000/x/"


def test_load_sources_sorted_and_empty_folder(tmp_path):
    with pytest.raises(ConfigError, match="no \\*.toml"):
        load_sources(tmp_path)
    write(tmp_path, "b.toml", 'name = "B"\nhomepage = "https://b.example/"\n')
    write(tmp_path, "a.toml", 'name = "A"\nhomepage = "https://a.example/"\n')
    assert [s.id for s in load_sources(tmp_path)] == ["a", "b"]


def test_allowed_hosts_are_read_and_checked(tmp_path):
    src = load_source(write(tmp_path, "a.toml", 'name = "A"\nhomepage = "https://a.example/"\n'
                                                 'allowed_hosts = ["cdn.example.net", "*.blog.example"]\n'))
    assert src.allowed_hosts == ("cdn.example.net", "*.blog.example")
    for bad in ('["a..b"]', '["https://cdn.example.net/"]', '"cdn.example.net"', '[""]'):
        with pytest.raises(ConfigError, match="allowed_hosts"):
            load_source(write(tmp_path, "b.toml", f'name = "B"\nhomepage = "https://b.example/"\n'
                                                   f"allowed_hosts = {bad}\n"))
