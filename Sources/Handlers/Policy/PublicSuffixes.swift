/// Public suffixes: names under which anyone may register a site of their own. An
/// `allowed_domains` entry may not be one — `co.uk` or `github.io` would admit every site under it —
/// nor a name above one (`amazonaws.com` holds `s3.amazonaws.com`, and with it every bucket).
///
/// A compact selection from the Public Suffix List (https://publicsuffix.org, MPL 2.0), each name
/// checked against its release of 2023-02-09: the ICANN section's multi-label suffixes most used
/// (second-level domains of country codes: `co.uk`, `com.au`, `co.jp`; wildcard rules such as
/// `*.bd` by their `com.` name), and the PRIVATE section's suffixes where any customer of a hosting,
/// storage or dynamic-DNS service gets a subdomain (`github.io`, `herokuapp.com`, `vercel.app`). No
/// single-label name is listed: every single-label entry but `localhost` is refused anyway. A suffix
/// missing here is accepted as an entry until it is added.
enum PublicSuffixes {
    /// Whether `name` (lower-case, no trailing dot) is a public suffix.
    static func contains(_ name: String) -> Bool {
        names.contains(name)
    }

    /// A public suffix strictly below `name`, when there is one: `s3.amazonaws.com` for `amazonaws.com`.
    static func below(_ name: String) -> String? {
        parents[name]
    }

    static let names: Set<String> = icann.union(hosting)

    /// The ICANN section: second-level names of country-code domains, grouped by country.
    static let icann: Set<String> = [
        "com.al", "com.am", "co.ao", "com.ar", "edu.ar", "gob.ar", "net.ar", "org.ar", "ac.at", "co.at", "gv.at", "or.at",
        "asn.au", "com.au", "edu.au", "gov.au", "id.au", "net.au", "org.au", "com.az", "com.ba", "com.bd", "com.bh", "com.bo",
        "art.br", "blog.br", "com.br", "edu.br", "gov.br", "net.br", "org.br", "co.bw", "ac.cn", "com.cn", "edu.cn", "gov.cn",
        "net.cn", "org.cn", "com.co", "edu.co", "gov.co", "net.co", "org.co", "co.cr", "com.cu", "com.cy", "com.do", "com.dz",
        "com.ec", "com.eg", "com.es", "edu.es", "gob.es", "nom.es", "org.es", "com.et", "com.fj", "com.ge", "com.gh", "com.gr",
        "net.gr", "org.gr", "com.gt", "com.hk", "edu.hk", "gov.hk", "idv.hk", "net.hk", "org.hk", "com.hn", "ac.id", "biz.id",
        "co.id", "go.id", "my.id", "or.id", "web.id", "ac.il", "co.il", "gov.il", "net.il", "org.il", "ac.in", "co.in", "edu.in",
        "firm.in", "gen.in", "gov.in", "ind.in", "net.in", "org.in", "res.in", "com.jo", "ac.jp", "ad.jp", "co.jp", "ed.jp",
        "go.jp", "gr.jp", "lg.jp", "ne.jp", "or.jp", "co.ke", "or.ke", "com.kh", "ac.kr", "co.kr", "go.kr", "ne.kr", "or.kr",
        "re.kr", "com.kw", "com.kz", "com.lb", "com.lk", "co.ls", "co.ma", "com.mk", "com.mm", "com.mt", "com.mx", "edu.mx",
        "gob.mx", "net.mx", "org.mx", "com.my", "edu.my", "gov.my", "net.my", "org.my", "co.mz", "co.na", "com.ng", "com.ni",
        "com.np", "ac.nz", "co.nz", "geek.nz", "gen.nz", "govt.nz", "kiwi.nz", "net.nz", "org.nz", "school.nz", "com.om",
        "com.pa", "com.pe", "edu.pe", "gob.pe", "net.pe", "org.pe", "com.pg", "com.ph", "edu.ph", "gov.ph", "net.ph", "org.ph",
        "com.pk", "edu.pk", "gov.pk", "net.pk", "org.pk", "biz.pl", "com.pl", "info.pl", "net.pl", "org.pl", "waw.pl", "com.pt",
        "org.pt", "com.py", "com.qa", "co.rs", "in.rs", "com.sa", "com.sg", "edu.sg", "gov.sg", "net.sg", "org.sg", "com.sv",
        "ac.th", "co.th", "go.th", "in.th", "or.th", "com.tn", "av.tr", "biz.tr", "com.tr", "edu.tr", "gen.tr", "gov.tr",
        "info.tr", "net.tr", "org.tr", "web.tr", "com.tw", "edu.tw", "gov.tw", "idv.tw", "net.tw", "org.tw", "co.tz", "com.ua",
        "in.ua", "kiev.ua", "net.ua", "org.ua", "co.ug", "ac.uk", "co.uk", "gov.uk", "ltd.uk", "me.uk", "net.uk", "nhs.uk",
        "org.uk", "plc.uk", "police.uk", "com.uy", "co.ve", "com.ve", "com.vn", "edu.vn", "gov.vn", "net.vn", "org.vn", "ac.za",
        "co.za", "gov.za", "net.za", "org.za", "web.za", "co.zm", "co.zw",
    ]

    /// The PRIVATE section: where the customers of a service get subdomains of its name.
    static let hosting: Set<String> = [
        // Static sites, application platforms and serverless hosts.
        "github.io", "gitlab.io", "bitbucket.io", "codeberg.page", "githubusercontent.com", "herokuapp.com", "herokussl.com",
        "vercel.app", "vercel.dev", "now.sh", "netlify.app", "pages.dev", "workers.dev", "r2.dev", "trycloudflare.com",
        "appspot.com", "web.app", "firebaseapp.com", "cloudfunctions.net", "run.app", "azurewebsites.net", "azurestaticapps.net",
        "cloudapp.net", "elasticbeanstalk.com", "onrender.com", "fly.dev", "deno.dev", "glitch.me", "repl.co", "ngrok.io",
        "ondigitalocean.app", "pythonanywhere.com", "pantheonsite.io", "readthedocs.io", "translate.goog",
        // Blogs and shops.
        "blogspot.com", "wixsite.com", "myshopify.com",
        // Storage and content delivery.
        "cloudfront.net", "global.ssl.fastly.net", "s3.amazonaws.com", "s3.eu-central-1.amazonaws.com", "s3-eu-west-1.amazonaws.com",
        "s3-us-west-2.amazonaws.com", "s3-website-us-east-1.amazonaws.com", "s3-website-us-west-2.amazonaws.com",
        "s3-website-eu-west-1.amazonaws.com",
        // Dynamic DNS.
        "ddns.net", "duckdns.org", "dyndns.org", "myftp.org", "no-ip.org",
        // Registries selling subdomains that read like country domains.
        "ae.org", "br.com", "cn.com", "com.de", "de.com", "eu.com", "gb.net", "gr.com", "hu.net", "jpn.com", "qc.com", "ru.com",
        "sa.com", "se.net", "uk.com", "uk.net", "us.com", "za.com", "com.ru", "msk.ru", "net.ru", "org.ru", "spb.ru",
    ]

    /// Every name with a public suffix strictly below it (two labels at least: a single label is
    /// refused anyway), mapped to the first such suffix in sorted order.
    static let parents: [String: String] = {
        var parents: [String: String] = [:]
        for suffix in names.sorted() {
            var labels = suffix.split(separator: ".").dropFirst()
            while labels.count >= 2 {
                let parent = labels.joined(separator: ".")
                if !names.contains(parent), parents[parent] == nil { parents[parent] = suffix }
                labels = labels.dropFirst()
            }
        }
        return parents
    }()
}
